import type { MessageMeta } from '../domain/types.js';
import type { MessageRow } from './checkpoint.js';
import { FILTER_REASONS, SEARCH_REASON, skipReason, type MessageFilter } from './filters.js';

/**
 * A message left out by a filter that the current filters would let through. `searched` is the
 * folder's `FolderState.search`: a search skip is looked at again when the criteria differ.
 */
export function liftable(r: MessageRow, filter: MessageFilter, searched: string | undefined): boolean {
  if (r.reason === SEARCH_REASON) return r.state === 'skipped' && filter.search !== searched;
  // A size refusal by a server that states no limit is final: retrying it each run would only
  // move the same big message again to be refused again.
  const knownLimit = r.reason !== 'too-large' || filter.destMaxSize !== undefined;
  return r.state === 'skipped' && FILTER_REASONS.has(r.reason ?? '') && knownLimit && !skipReason(rowMeta(r), filter);
}

/**
 * The journal's skipped rows that stay left out under the current filters, by the reason that
 * leaves them out now (the recorded one where no current filter says: a server's size refusal).
 * Every run reports these, whatever run first left them out, so a rerun with other filters
 * still says what it does not copy.
 */
export function stillSkipped(rows: MessageRow[], filter: MessageFilter, searched: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    if (r.state !== 'skipped' || liftable(r, filter, searched)) continue;
    const reason = skipReason(rowMeta(r), filter) ?? r.reason ?? 'skipped';
    out[reason] = (out[reason] ?? 0) + 1;
  }
  return out;
}

function rowMeta(r: MessageRow): MessageMeta {
  return { uid: r.srcUid, size: r.size, flags: r.flags, internalDate: new Date(r.internalDate) };
}

import { FolderError } from '../errors/errors.js';
import type { MessageMeta } from '../domain/types.js';
import type { Store } from '../stores/store.js';
import type { Checkpoint, MessageRow } from './checkpoint.js';
import { skipReason } from './filters.js';
import { filterFor, isUnchanged, searchSource, type FolderPair, type SyncOptions } from './folder-sync.js';
import { emptyReport, type FolderReport } from './report.js';
import { liftable, stillSkipped } from './skipped-rows.js';

export interface PreviewContext {
  source: Store;
  dest: Store;
  /** The run's journal as it stands, read only; undefined before the first run. */
  checkpoint?: Checkpoint;
  options: SyncOptions;
  /** Folders looked at at once (each holds one source connection). */
  connections: number;
}

/**
 * A dry run: for each folder pair, what a run would copy (`copied`, `bytes`) and leave out
 * (`skipped`, by reason), decided as the run decides it (see folder-sync.ts: the unchanged
 * folder, the full pass, the incremental pass against the journal), from the source's message
 * metadata alone. Nothing is fetched, nothing is written, the destination folders are not opened.
 * A message that is at the destination but not in the journal counts as one to copy: only its
 * bytes, which a dry run does not fetch, would show that the run finds it there.
 */
export async function previewTransfer(ctx: PreviewContext, pairs: FolderPair[]): Promise<FolderReport[]> {
  const reports: FolderReport[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pairs.length) {
      const pair = pairs[next++]!;
      reports.push(await previewFolder(ctx, pair));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(ctx.connections, pairs.length)) }, worker));
  return reports;
}

async function previewFolder(ctx: PreviewContext, pair: FolderPair): Promise<FolderReport> {
  const report = emptyReport(pair.source.name, pair.dest.name);
  report.found = pair.source.status?.messages ?? 0;
  const filter = filterFor(ctx);
  const checkpoint = ctx.checkpoint;
  const state = checkpoint?.folder(pair.source.name);
  if (checkpoint && state && isUnchanged({ ...ctx, checkpoint }, pair, state)) {
    report.skipped = stillSkipped(checkpoint.rows(state.srcName, state.srcUidValidity, ['skipped']), filter, state.search);
    return report;
  }
  let src;
  try {
    src = await ctx.source.openFolder(pair.source.name, 'read');
  } catch (err) {
    if (!(err instanceof FolderError)) throw err;
    return { ...report, error: err.message };
  }
  try {
    report.found = src.status.messages;
    const uidValidity = src.status.uidValidity;
    const sameSource = !!checkpoint && state?.srcUidValidity === uidValidity;
    const destStatus = pair.dest.status;
    const sameDest = state?.destName === pair.dest.name && destStatus !== undefined && state.destUidValidity === destStatus.uidValidity;
    const rows = sameSource ? checkpoint.rows(state.srcName, uidValidity) : [];
    let todo: MessageMeta[];
    let journal: MessageRow[];
    if (!sameSource || !sameDest || state.srcUidNext === 0) {
      // The full pass: every source message the journal does not settle for this generation.
      journal = sameDest ? rows.filter((r) => r.state === 'done' || (r.state === 'skipped' && !liftable(r, filter, state.search))) : [];
      const settled = new Set(journal.map((r) => r.srcUid));
      todo = (await src.scan({})).filter((m) => !settled.has(m.uid));
    } else {
      // The incremental pass: new UIDs, and rows left pending, failed or now let through.
      journal = rows;
      const known = new Set(rows.map((r) => r.srcUid));
      const retry = rows.filter((r) => r.state === 'pending' || r.state === 'failed' || liftable(r, filter, state.search)).map((r) => r.srcUid);
      const fresh = (await src.scan({ fromUid: state.doneThrough + 1 })).filter((m) => m.uid > state.doneThrough && !known.has(m.uid));
      todo = [...(retry.length > 0 ? await src.scan({ uids: retry }) : []), ...fresh];
    }
    // The journal's rows the run keeps as they are were judged by the criteria they were saved with.
    report.skipped = stillSkipped(journal, filter, state?.search);
    const matches = todo.length > 0 ? await searchSource(src, filter) : undefined;
    // An APPEND an earlier run began is finished whatever the filters say (see folder-sync.ts).
    const begun = new Set(rows.filter((r) => r.state === 'pending').map((r) => r.srcUid));
    for (const m of todo) {
      const reason = begun.has(m.uid) ? undefined : skipReason(m, filter, matches);
      if (reason) report.skipped[reason] = (report.skipped[reason] ?? 0) + 1;
      else {
        report.copied++;
        report.bytes += m.size;
      }
    }
    return report;
  } catch (err) {
    if (!(err instanceof FolderError)) throw err;
    return { ...report, error: err.message };
  } finally {
    await src.close();
  }
}

import type { Checkpoint, MessageRow } from '../engine/checkpoint.js';
import type { EmitEvent } from '../engine/events.js';
import type { FolderPair } from '../engine/folder-sync.js';
import { sha256 } from '../engine/hash.js';
import type { FolderReport } from '../engine/report.js';
import type { Store } from '../stores/store.js';
import { counted } from '../reporting/plural.js';

export interface MirrorContext {
  source: Store;
  dest: Store;
  checkpoint: Checkpoint;
  emit: EmitEvent;
  /** Only list what would be removed (`--dry-run`): nothing is removed or journaled. */
  dryRun?: boolean;
}

/**
 * `backup --mirror` and `migrate --propagate-deletes`: removes at the destination the messages that
 * were deleted (or moved away) at the source. Only what the checkpoint proves is gone is removed:
 * a message this checkpoint copied (a `done` row of the source folder's current UIDVALIDITY, with
 * its destination UID) whose source UID the source no longer lists, and whose destination copy
 * still has the bytes recorded for it. Anything the checkpoint cannot vouch for stays. Never
 * touches the source (opened read-only), never deletes a folder, and skips a folder whose sync did
 * not finish in this run.
 *
 * Journal: the rows become `removing` before the EXPUNGE and `removed` after it. A run killed in
 * between finds them `removing` and removes what is still there; the EXPUNGE names UIDs, so a UID
 * already gone is not an error and nothing else is ever named.
 */
export async function mirrorDeletions(ctx: MirrorContext, pairs: readonly FolderPair[], reports: readonly FolderReport[]): Promise<void> {
  for (const pair of pairs) {
    const report = reports.find((r) => r.source === pair.source.name && r.destination === pair.dest.name);
    const state = ctx.checkpoint.folder(pair.source.name);
    if (!report || report.error || !state || state.destName !== pair.dest.name) continue;

    const src = await ctx.source.openFolder(pair.source.name, 'read');
    let present: Set<number>;
    try {
      if (src.status.uidValidity !== state.srcUidValidity) continue;
      present = new Set((await src.scan({})).map((m) => m.uid));
      // A list the server would not give whole proves nothing gone.
      if (src.incomplete) {
        ctx.emit({ type: 'notice', message: `${pair.source.name}: nothing removed at the destination: ${src.incomplete}` });
        continue;
      }
    } finally {
      await src.close();
    }
    const gone = ctx.checkpoint
      .rows(state.srcName, state.srcUidValidity, ['done', 'removing'])
      .filter((r) => r.destUid !== undefined && !present.has(r.srcUid));
    if (gone.length === 0) {
      report.removed = 0;
      continue;
    }

    const dst = await ctx.dest.openFolder(pair.dest.name, ctx.dryRun ? 'read' : 'write');
    try {
      if (dst.status.uidValidity !== state.destUidValidity) continue;
      const { confirmed, differing, absent } = await confirmCopies(dst, gone);
      if (differing.length > 0) {
        ctx.emit({ type: 'notice', message: `${pair.dest.name}: left ${counted(differing.length, 'message')} whose bytes differ from the copy this checkpoint made (UIDs ${differing.join(',')})` });
      }
      report.removed = confirmed.length;
      const uids = confirmed.map((r) => r.destUid!);
      if (ctx.dryRun) {
        if (uids.length > 0) ctx.emit({ type: 'notice', message: `${pair.dest.name}: would remove ${counted(uids.length, 'message')} at the destination (UIDs ${uids.join(',')})` });
        continue;
      }
      if (!dst.expunge) throw new Error(`${ctx.dest.label} cannot remove messages`);
      ctx.checkpoint.putRows(state.srcName, state.srcUidValidity, confirmed.map((r) => ({ ...r, state: 'removing' })));
      await dst.expunge(uids);
      ctx.checkpoint.putRows(state.srcName, state.srcUidValidity, [...confirmed, ...absent].map((r) => ({ ...r, state: 'removed' })));
    } finally {
      await dst.close();
    }
  }
}

/**
 * Sorts the rows by what their destination UID holds now: the bytes this checkpoint recorded for
 * the copy (its SHA-256), other bytes (never touched), or nothing (already removed).
 */
async function confirmCopies(
  dst: { fetch(uids: number[]): AsyncIterable<{ uid: number; raw: Buffer }> },
  rows: MessageRow[],
): Promise<{ confirmed: MessageRow[]; differing: number[]; absent: MessageRow[] }> {
  const byDestUid = new Map(rows.map((r) => [r.destUid!, r]));
  const confirmed: MessageRow[] = [];
  const differing: number[] = [];
  for await (const m of dst.fetch([...byDestUid.keys()].sort((a, b) => a - b))) {
    const row = byDestUid.get(m.uid);
    if (!row) continue;
    byDestUid.delete(m.uid);
    const recorded = row.destSha256 ?? row.sha256;
    if (recorded !== undefined && sha256(m.raw) === recorded) confirmed.push(row);
    else differing.push(m.uid);
  }
  return { confirmed, differing, absent: [...byDestUid.values()] };
}

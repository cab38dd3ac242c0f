import type { Checkpoint } from '../engine/checkpoint.js';
import type { FolderPair } from '../engine/folder-sync.js';
import type { FolderReport } from '../engine/report.js';
import type { Store } from '../stores/store.js';

export interface MirrorContext {
  source: Store;
  dest: Store;
  checkpoint: Checkpoint;
}

/**
 * `backup --mirror`: removes from the backup the messages that were deleted on the server. Only
 * what the checkpoint proves is gone is removed: a message the backup copied (a `done` row of the
 * source folder's current UIDVALIDITY, with its destination UID) whose source UID the server no
 * longer lists. Anything the checkpoint cannot vouch for stays. Never touches the server, never
 * deletes a folder, and skips a folder whose sync did not finish in this run.
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
    } finally {
      await src.close();
    }
    const gone = ctx.checkpoint
      .rows(state.srcName, state.srcUidValidity, ['done'])
      .filter((r) => r.destUid !== undefined && !present.has(r.srcUid))
      .map((r) => r.destUid!);
    if (gone.length === 0) {
      report.removed = 0;
      continue;
    }

    const dst = await ctx.dest.openFolder(pair.dest.name, 'write');
    try {
      if (!dst.expunge) throw new Error(`${ctx.dest.label} cannot remove messages`);
      if (dst.status.uidValidity !== state.destUidValidity) continue;
      // Rows stay in the checkpoint, so count only what is still there to remove.
      const there = (await dst.scan({ uids: gone })).map((m) => m.uid);
      await dst.expunge(there);
      report.removed = there.length;
    } finally {
      await dst.close();
    }
  }
}

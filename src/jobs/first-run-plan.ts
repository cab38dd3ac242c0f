import type { FolderPair } from '../engine/folder-sync.js';
import { previewTransfer, type PreviewContext } from '../engine/preview.js';
import { runPlan, type RunPlan } from '../engine/run-plan.js';

/**
 * What a run without a checkpoint will do, counted as a dry run counts it (one metadata scan of
 * each source folder, nothing fetched), with the destination's quota where its store can tell.
 */
export async function firstRunPlan(ctx: Omit<PreviewContext, 'checkpoint'>, pairs: FolderPair[]): Promise<RunPlan> {
  const [reports, quota] = await Promise.all([previewTransfer(ctx, pairs), ctx.dest.quota ? ctx.dest.quota().then((q) => q ?? null) : undefined]);
  return runPlan(reports, quota);
}

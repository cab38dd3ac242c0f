import { takesEveryMessage } from '../engine/filters.js';
import { filterFor, type FolderPair } from '../engine/folder-sync.js';
import { previewTransfer, type PreviewContext } from '../engine/preview.js';
import { emptyReport, type FolderReport } from '../engine/report.js';
import { runPlan, type RunPlan } from '../engine/run-plan.js';

/**
 * What a run without a checkpoint will do, counted as a dry run counts it, with the destination's
 * quota where its store can tell. Where the listing already gave every source folder's size
 * (STATUS=SIZE) and no filter looks at single messages, those counts are the plan; otherwise one
 * metadata scan of each source folder (nothing fetched) counts it. The scans are two round trips
 * a folder before the first copy, 1.8 s of a 6.6 s backup at 100 ms RTT.
 */
export async function firstRunPlan(ctx: Omit<PreviewContext, 'checkpoint'>, pairs: FolderPair[]): Promise<RunPlan> {
  const listed = takesEveryMessage(filterFor(ctx)) ? fromListing(pairs) : undefined;
  const [reports, quota] = await Promise.all([listed ?? previewTransfer(ctx, pairs), ctx.dest.quota ? ctx.dest.quota().then((q) => q ?? null) : undefined]);
  return runPlan(reports, quota);
}

/** The reports from the listing's counts, when it has a size for every source folder. */
function fromListing(pairs: FolderPair[]): FolderReport[] | undefined {
  const reports: FolderReport[] = [];
  for (const p of pairs) {
    const status = p.source.status;
    if (status?.size === undefined) return undefined;
    reports.push({ ...emptyReport(p.source.name, p.dest.name), found: status.messages, copied: status.messages, bytes: status.size });
  }
  return reports;
}

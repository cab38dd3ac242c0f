import type { ExitKind } from '../errors/exit-codes.js';
import { totals, type FolderReport, type Totals } from '../engine/report.js';
import type { VerifyResult } from './verify.js';
import type { RunPlan } from '../engine/run-plan.js';

/** What a job hands back to the CLI: the report and how the process should end. */
export interface JobResult {
  command: string;
  source: string;
  destination: string;
  folders: FolderReport[];
  totals: Totals;
  seconds: number;
  exit: ExitKind;
  dryRun: boolean;
  /** The search criteria the run selected messages by (`--search`, `--gmail-search`). */
  search?: string;
  checkpoint?: string;
  /** The archive written after the run (backup --archive). */
  archive?: string;
  /** The comparison run after the transfer (--verify). */
  verify?: VerifyResult;
  /** What a first run (no checkpoint yet) set out to do, as it told before copying. */
  plan?: RunPlan;
  /** Broken connections re-opened by the run itself, while connecting and listing or while copying. */
  reconnects: number;
}

/** Adds a --verify comparison: any difference makes the run end as partial. */
export function withVerify(result: JobResult, verify: VerifyResult): JobResult {
  return { ...result, verify, exit: verify.equal ? result.exit : 'partial' };
}

/** `reconnects`: those made before the folders were copied; each folder's own are added. */
export function finishResult(base: Omit<JobResult, 'totals' | 'exit' | 'reconnects'> & { reconnects?: number }): JobResult {
  const t = totals(base.folders);
  const folders = [...base.folders].sort((a, b) => a.source.localeCompare(b.source));
  const reconnects = folders.reduce((n, f) => n + (f.reconnects ?? 0), base.reconnects ?? 0);
  return { ...base, folders, totals: t, exit: t.failed > 0 ? 'partial' : 'ok', reconnects };
}

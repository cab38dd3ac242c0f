import type { FolderReport, Totals } from '../engine/report.js';
import { exitStatus } from '../errors/exit-codes.js';
import type { VerifyResult } from '../jobs/verify.js';
import type { RunPlan } from '../engine/run-plan.js';

/** What `--json` prints at the end of migrate, backup and restore, and what the library API returns. */
export interface RunSummary {
  command: string;
  source: string;
  destination: string;
  dryRun: boolean;
  /** The IMAP SEARCH criteria messages were selected by (`--search`; `--gmail-search` as X-GM-RAW "query"). */
  search?: string;
  folders: FolderReport[];
  totals: Totals;
  seconds: number;
  /** Broken connections the run re-opened by itself (while connecting and listing, and while copying). */
  reconnects: number;
  /** The status the command exits with: 0 all done, 1 some messages failed or differ (docs/exit-codes.md). */
  exitCode: number;
  /** The checkpoint file (absent in a dry run). */
  checkpoint?: string;
  /** The comparison run after the transfer (--verify). */
  verify?: VerifyResult;
  /** The archive written after the run (backup --archive). */
  archive?: string;
  /** A first run (no checkpoint yet): what it set out to do, told before it copied (docs/migrate.md). */
  plan?: RunPlan;
}

/** What `verify --json` prints, and what the library API's verify returns. */
export type VerifySummary = VerifyResult & {
  /** 0 when both sides are equal, 1 when not. */
  exitCode: number;
};

export function verifySummary(result: VerifyResult): VerifySummary {
  return { ...result, exitCode: exitStatus(result.equal ? 'ok' : 'partial') };
}

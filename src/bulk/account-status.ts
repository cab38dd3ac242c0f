/** Where one account of a campaign is. `retrying`: failed with a transient cause, waiting for its next attempt. */
export type AccountState = 'queued' | 'running' | 'done' | 'failed' | 'retrying' | 'skipped';

export const ACCOUNT_STATES: readonly AccountState[] = ['queued', 'running', 'retrying', 'done', 'failed', 'skipped'];

/** One account's row in the status store, the `bulk status` table and the reports. Never a secret. */
export interface AccountStatus {
  key: string;
  id?: string;
  /** Account URLs as they may be printed (no password), or the backup directory. */
  from: string;
  to: string;
  state: AccountState;
  /** Attempts started so far, over all runs of the campaign. */
  attempts: number;
  /** The last failure's one line (as the single-account command prints it), if any. */
  lastError?: string;
  /** The last finished attempt's exit code (docs/exit-codes.md). */
  exitCode?: number;
  /** Copied by this account's attempts, all runs together. */
  messages: number;
  bytes: number;
  /** Time spent running, all attempts together. */
  durationMs: number;
  /** ISO 8601 times of the first start and last finish. */
  startedAt?: string;
  finishedAt?: string;
  /** The account's own checkpoint file and log file. */
  checkpoint: string;
  log: string;
  /** Who ran the last attempt (host:pid), in distributed mode. */
  worker?: string;
}

/** Messages and bytes copied by the whole campaign up to `at`, sampled while it runs (the report's chart). */
export interface ThroughputSample {
  /** ISO 8601 */
  at: string;
  messages: number;
  bytes: number;
}

/** Everything a report shows: made by the status store, drawn by the report writers. */
export interface CampaignSnapshot {
  command: 'migrate' | 'backup';
  /** The account list the campaign was started from. */
  list: string;
  /** ISO 8601 */
  takenAt: string;
  accounts: AccountStatus[];
  throughput: ThroughputSample[];
}

import type { AccountState, CampaignSnapshot, ThroughputSample } from './account-status.js';
import type { BulkAccount, BulkCommand } from './bulk-account.js';

/** How one attempt at an account ended, as the status store records it (never a secret). */
export interface AttemptEnd {
  state: Exclude<AccountState, 'running'>;
  exitCode?: number;
  /** The failure's one line; absent when the attempt succeeded or was interrupted. */
  error?: string;
  messages: number;
  bytes: number;
  durationMs: number;
}

/**
 * Where a campaign's state lives: one row per account, and throughput samples. The scheduler
 * reports to it; `bulk status` and the reports read its snapshot. Embedded mode keeps it in one
 * SQLite file; the distributed mode keeps it in Redis, beside its queue (queue/redis-status-store.ts).
 */
export interface StatusStore {
  /**
   * Enters the campaign's accounts: new ones queued, known ones keeping their attempts and
   * counters, and queued again unless done (a rerun still rechecks the done ones, retries the
   * failed ones and resumes the ones a killed run left running).
   */
  enroll(accounts: readonly BulkAccount[], files: (account: BulkAccount) => AccountFiles): Promise<void>;
  /** An attempt starts, run by `worker` (host:pid), with the account's files on that worker's machine. */
  started(key: string, worker: string, files: AccountFiles): Promise<void>;
  finished(key: string, end: AttemptEnd): Promise<void>;
  sample(sample: ThroughputSample): Promise<void>;
  snapshot(): Promise<CampaignSnapshot>;
  close(): Promise<void>;
}

/** Where an account's own checkpoint and log are (on the machine that runs it). */
export interface AccountFiles {
  checkpoint: string;
  log: string;
}

export interface CampaignIdentity {
  command: BulkCommand;
  /** The account list's path, as the campaign was started. */
  list: string;
}

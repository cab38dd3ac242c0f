import type { AccountState } from './account-status.js';
import type { AccountOutcome } from './account-runner.js';
import type { BulkAccount } from './bulk-account.js';

/** What a scheduler tells while it runs a campaign (progress displays listen). */
export type SchedulerEvent =
  | { type: 'started'; account: BulkAccount; attempt: number }
  | { type: 'progress'; account: BulkAccount; messages: number; bytes: number }
  | { type: 'finished'; account: BulkAccount; outcome: AccountOutcome; state: Exclude<AccountState, 'running'>; retryInMs?: number };

/**
 * Takes the accounts of a campaign, runs each with an AccountRunner, and reports every outcome to
 * the status store. The in-process one runs them here; a queue-backed one enqueues them for
 * workers that run them the same way.
 */
export interface Scheduler {
  /** Runs the accounts until each is done or failed for good, or the stop signal: then the running ones are stopped and checkpointed. */
  run(accounts: readonly BulkAccount[]): Promise<void>;
}

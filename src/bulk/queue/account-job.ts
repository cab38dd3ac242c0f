import type { JobsOptions } from 'bullmq';
import type { BulkAccount, BulkCommand } from '../bulk-account.js';

/** The queue's name when --queue-name is not given; one Redis database may hold several. */
export const DEFAULT_QUEUE_NAME = 'mailferry';

/** The custom backoff's name: the embedded mode's policy (retry-policy.ts), carried by BullMQ. */
export const BACKOFF_TYPE = 'mailferry';

/**
 * One account as a job: what a worker needs to run it as the enqueuing command would, and never a
 * secret (each worker signs in with its own password command, directory, admin login or OAuth2
 * credential). `options` are the campaign's options as the single-account command takes them.
 */
export interface AccountJob {
  command: BulkCommand;
  account: BulkAccount;
  options: Record<string, unknown>;
}

/**
 * The job id is the account's key (its row `id`, else derived from the command and the account
 * pair), so enqueuing the same list twice adds nothing. A transient failure is retried by BullMQ
 * with the same backoff as the embedded mode; a job a dead worker left is taken over (stalled).
 */
export function accountJobOptions(account: BulkAccount, retries: number): JobsOptions {
  return {
    jobId: accountJobId(account.key),
    attempts: retries + 1,
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: false,
    removeOnFail: false,
  };
}

/** BullMQ refuses an all-digit custom id (it would clash with its own counter): one row id may be "1042". */
export function accountJobId(key: string): string {
  return `account.${key}`;
}

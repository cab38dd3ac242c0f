import { Job, Queue } from 'bullmq';
import { EXIT_CODES, type ExitKind } from '../../errors/exit-codes.js';
import type { AccountStatus } from '../account-status.js';
import type { BulkAccount, BulkCommand } from '../bulk-account.js';
import type { Scheduler, SchedulerEvent } from '../scheduler.js';
import { accountJobId, accountJobOptions, type AccountJob } from './account-job.js';
import { redisOptions, type QueueAddress } from './queue-address.js';
import type { RedisStatusStore } from './redis-status-store.js';

export interface QueueSchedulerSetup {
  address: QueueAddress;
  queueName: string;
  command: BulkCommand;
  /** The campaign's options, as the single-account command takes them: never a secret. */
  options: Record<string, unknown>;
  retries: number;
  store: RedisStatusStore;
  signal: AbortSignal;
  events: (e: SchedulerEvent) => void;
  /** How often the status is read while following. */
  pollMs?: number;
}

const FINAL = new Set<AccountStatus['state']>(['done', 'failed', 'skipped']);

/**
 * The distributed mode's side of `bulk migrate|backup --queue`: enqueues one job per account and
 * follows the campaign's status (which the workers write) until every account is done or failed
 * for good. An account already in the queue is left alone; one whose job finished (done or
 * failed) is put back, as a rerun of the embedded mode rechecks and retries. On the stop signal
 * it stops following; the queued accounts stay for the workers.
 */
export class QueueScheduler implements Scheduler {
  constructor(private readonly setup: QueueSchedulerSetup) {}

  async run(accounts: readonly BulkAccount[]): Promise<void> {
    const { store } = this.setup;
    await store.enroll(accounts, () => ({ checkpoint: '', log: '' }));
    const queue = new Queue<AccountJob>(this.setup.queueName, { connection: redisOptions(this.setup.address) });
    queue.on('error', () => undefined);
    try {
      for (const account of accounts) {
        if (this.setup.signal.aborted) return;
        await this.enqueue(queue, account);
      }
    } finally {
      await queue.close();
    }
    await this.follow(accounts);
  }

  private async enqueue(queue: Queue<AccountJob>, account: BulkAccount): Promise<void> {
    const id = accountJobId(account.key);
    const state = await queue.getJobState(id);
    if (state === 'unknown') {
      await queue.add(this.setup.command, { command: this.setup.command, account, options: this.setup.options }, accountJobOptions(account, this.setup.retries));
    } else if (state === 'completed' || state === 'failed') {
      const job = await Job.fromId<AccountJob>(queue, id);
      await job?.updateData({ command: this.setup.command, account, options: this.setup.options });
      await job?.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
    }
  }

  /** Reads the status until every account is final, telling what changed. */
  private async follow(accounts: readonly BulkAccount[]): Promise<void> {
    const byKey = new Map(accounts.map((a) => [a.key, a]));
    const seen = new Map<string, { state: AccountStatus['state']; attempts: number }>();
    for (;;) {
      const snapshot = await this.setup.store.snapshot();
      let open = 0;
      for (const status of snapshot.accounts) {
        const account = byKey.get(status.key);
        if (!account) continue;
        const before = seen.get(status.key);
        if (before?.state !== status.state || before.attempts !== status.attempts) this.tell(account, status, before?.state);
        seen.set(status.key, { state: status.state, attempts: status.attempts });
        if (!FINAL.has(status.state)) open += 1;
      }
      if (open === 0 || this.setup.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.setup.pollMs ?? 1_000);
        this.setup.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  }

  private tell(account: BulkAccount, status: AccountStatus, before: AccountStatus['state'] | undefined): void {
    if (status.state === 'running') {
      this.setup.events({ type: 'started', account, attempt: status.attempts });
      return;
    }
    if (status.state === 'queued' || before === undefined) return;
    const exitCode = status.exitCode ?? 0;
    const exit = (Object.entries(EXIT_CODES).find(([, c]) => c.status === exitCode)?.[0] ?? 'internal') as ExitKind;
    this.setup.events({
      type: 'finished',
      account,
      state: status.state,
      outcome: {
        exit,
        exitCode,
        ...(status.lastError ? { line: status.lastError } : {}),
        transient: status.state === 'retrying',
        // The status keeps the account's totals over its attempts: what a display shows.
        messages: status.messages,
        bytes: status.bytes,
        durationMs: status.durationMs,
      },
    });
  }
}

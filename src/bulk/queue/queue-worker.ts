import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { AccountOutcome, AccountRunner } from '../account-runner.js';
import type { BulkAccount } from '../bulk-account.js';
import { accountFiles } from '../campaign-files.js';
import { backoffMs } from '../retry-policy.js';
import type { AccountFiles } from '../status-store.js';
import { BACKOFF_TYPE, type AccountJob } from './account-job.js';
import { redisOptions, type QueueAddress } from './queue-address.js';
import type { RedisStatusStore } from './redis-status-store.js';

export interface WorkerSetup {
  address: QueueAddress;
  queueName: string;
  /** Accounts at once in this worker (--parallel). */
  parallel: number;
  /** Where this worker keeps each account's checkpoint (a backup's is in the backup) and log. */
  stateDir: string;
  /** A runner for the job's command and options, signing in with this worker's own secrets. */
  runnerFor: (job: AccountJob, files: (account: BulkAccount) => AccountFiles) => AccountRunner;
  store: RedisStatusStore;
  /** How long a dead worker's account stays locked before another worker takes it over. */
  lockMs: number;
  /** SIGTERM/SIGINT: stop taking accounts, stop the running ones (checkpointed) and put them back. */
  signal: AbortSignal;
  log: (line: string) => void;
}

/**
 * Takes accounts from the queue until the stop signal, running each as the embedded mode does.
 * BullMQ carries the reliability: the job lock is renewed while an account runs; a worker killed
 * with kill -9 lets its lock expire and the stalled-job check hands the account to another worker,
 * whose run resumes from its own checkpoint or, without one, matches by content against the
 * destination, so nothing is copied twice. A transient failure is retried with the embedded
 * mode's backoff; any other fails the job at once.
 */
export async function runWorker(setup: WorkerSetup): Promise<void> {
  const me = `${hostname()}:${process.pid}`;
  const stopping = new AbortController();
  mkdirSync(setup.stateDir, { recursive: true, mode: 0o700 });

  const processJob = async (job: Job<AccountJob>, token?: string): Promise<{ messages: number; bytes: number }> => {
    const { account } = job.data;
    const files = accountFiles(job.data.command, setup.stateDir);
    const where = files(account);
    await setup.store.started(account.key, me, where);
    setup.log(`${account.key}: started (attempt ${job.attemptsMade + 1} of ${job.opts.attempts ?? 1})`);
    const outcome = await setup.runnerFor(job.data, files).run(account, { signal: stopping.signal, progress: () => undefined });
    const end = { exitCode: outcome.exitCode, messages: outcome.messages, bytes: outcome.bytes, durationMs: outcome.durationMs };
    if (outcome.exit === 'ok') {
      await setup.store.finished(account.key, { state: 'done', ...end });
      setup.log(`${account.key}: done, ${outcome.messages} copied`);
      return { messages: outcome.messages, bytes: outcome.bytes };
    }
    if (stopping.signal.aborted) {
      // Stopped, not failed: back to the queue without using an attempt; its checkpoint has the rest.
      await setup.store.finished(account.key, { state: 'queued', messages: outcome.messages, bytes: outcome.bytes, durationMs: outcome.durationMs });
      await job.moveToWait(token);
      setup.log(`${account.key}: stopped, back in the queue`);
      throw new WaitingError();
    }
    const retry = outcome.transient && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    await setup.store.finished(account.key, { state: retry ? 'retrying' : 'failed', error: outcome.line, ...end });
    setup.log(`${account.key}: ${retry ? 'will retry' : 'failed'}: ${outcome.line ?? `exit ${outcome.exitCode}`}`);
    throw retry ? new Error(failureLine(outcome)) : new UnrecoverableError(failureLine(outcome));
  };

  const worker = new Worker<AccountJob>(setup.queueName, processJob, {
    connection: redisOptions(setup.address),
    concurrency: setup.parallel,
    name: me,
    lockDuration: setup.lockMs,
    stalledInterval: setup.lockMs,
    // A run resumes and never copies twice, so an account may be taken over as often as workers die.
    maxStalledCount: 1_000,
    settings: { backoffStrategy: (attemptsMade: number, type?: string) => (type === BACKOFF_TYPE ? backoffMs(attemptsMade) : 0) },
  });
  worker.on('error', (err) => setup.log(`queue: ${err.message}`));

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      stopping.abort();
      // close() waits for the running accounts, which the abort above has just stopped.
      void worker.close().finally(resolve);
    };
    if (setup.signal.aborted) stop();
    else setup.signal.addEventListener('abort', stop, { once: true });
  });
}

function failureLine(outcome: AccountOutcome): string {
  return outcome.line ?? `exit ${outcome.exitCode}`;
}

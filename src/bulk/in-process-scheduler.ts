import { hostname } from 'node:os';
import { exitStatus } from '../errors/exit-codes.js';
import { failureOf } from '../errors/failure.js';
import type { AccountOutcome, AccountRunner } from './account-runner.js';
import type { BulkAccount } from './bulk-account.js';
import type { HostClaim, HostGate } from './host-gate.js';
import { backoffMs } from './retry-policy.js';
import type { Scheduler, SchedulerEvent } from './scheduler.js';
import type { AccountFiles, StatusStore } from './status-store.js';

export interface InProcessSetup {
  runner: AccountRunner;
  store: StatusStore;
  /** Where each account's checkpoint and log are. */
  files: (account: BulkAccount) => AccountFiles;
  /** Accounts at once (--parallel). */
  parallel: number;
  gate: HostGate;
  claims: (account: BulkAccount) => HostClaim[];
  /** Attempts after the first, within this run, for a transient failure (--retries). */
  retries: number;
  signal: AbortSignal;
  events: (e: SchedulerEvent) => void;
}

/**
 * Runs up to `parallel` accounts at once in this process. The next account to start is the first
 * waiting one whose hosts have room (HostGate), so a host at its cap holds up only its own
 * accounts. A transient failure waits its backoff and queues again; on the stop signal nothing
 * new starts, waits are dropped, and the running accounts' own signals stop them.
 */
export class InProcessScheduler implements Scheduler {
  private readonly waiting: BulkAccount[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly retriesUsed = new Map<string, number>();
  private readonly worker = `${hostname()}:${process.pid}`;
  private finish: () => void = () => {};

  constructor(private readonly setup: InProcessSetup) {}

  run(accounts: readonly BulkAccount[]): Promise<void> {
    this.waiting.push(...accounts);
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    const stop = (): void => {
      for (const [key, timer] of this.timers) {
        clearTimeout(timer);
        this.timers.delete(key);
        void this.setup.store.finished(key, { state: 'queued', messages: 0, bytes: 0, durationMs: 0 });
      }
      this.waiting.length = 0;
      for (const c of this.running.values()) c.abort();
      this.pump();
    };
    if (this.setup.signal.aborted) stop();
    else this.setup.signal.addEventListener('abort', stop, { once: true });
    this.pump();
    return done.finally(() => this.setup.signal.removeEventListener('abort', stop));
  }

  private pump(): void {
    while (!this.setup.signal.aborted && this.running.size < this.setup.parallel) {
      const next = this.waiting.findIndex((a) => this.setup.gate.fits(this.setup.claims(a)));
      if (next < 0) break;
      const [account] = this.waiting.splice(next, 1);
      void this.start(account!);
    }
    if (this.running.size === 0 && this.timers.size === 0 && (this.waiting.length === 0 || this.setup.signal.aborted)) this.finish();
  }

  private async start(account: BulkAccount): Promise<void> {
    const { store, runner, gate, events } = this.setup;
    const claims = this.setup.claims(account);
    const control = new AbortController();
    this.running.set(account.key, control);
    gate.take(claims);
    await store.started(account.key, this.worker, this.setup.files(account));
    events({ type: 'started', account, attempt: (this.retriesUsed.get(account.key) ?? 0) + 1 });
    const outcome = await runner.run(account, { signal: control.signal, progress: (messages, bytes) => events({ type: 'progress', account, messages, bytes }) }).catch((err: unknown) => {
      // A runner reports failures as outcomes; this is a bug, and the account's alone.
      const failure = failureOf(err);
      return { exit: failure.kind, exitCode: exitStatus(failure.kind), line: failure.line, transient: false, messages: 0, bytes: 0, durationMs: 0 } satisfies AccountOutcome;
    });
    gate.release(claims);
    this.running.delete(account.key);
    const used = this.retriesUsed.get(account.key) ?? 0;
    if (outcome.exit === 'ok') {
      await store.finished(account.key, { state: 'done', exitCode: outcome.exitCode, messages: outcome.messages, bytes: outcome.bytes, durationMs: outcome.durationMs });
      events({ type: 'finished', account, outcome, state: 'done' });
    } else if (control.signal.aborted) {
      // Stopped, not failed: its checkpoint has what it did, and the next run resumes it.
      await store.finished(account.key, { state: 'queued', messages: outcome.messages, bytes: outcome.bytes, durationMs: outcome.durationMs });
      events({ type: 'finished', account, outcome, state: 'queued' });
    } else if (outcome.transient && used < this.setup.retries) {
      const wait = backoffMs(used + 1);
      this.retriesUsed.set(account.key, used + 1);
      await store.finished(account.key, { state: 'retrying', exitCode: outcome.exitCode, error: outcome.line, messages: outcome.messages, bytes: outcome.bytes, durationMs: outcome.durationMs });
      events({ type: 'finished', account, outcome, state: 'retrying', retryInMs: wait });
      this.timers.set(account.key, setTimeout(() => {
        this.timers.delete(account.key);
        this.waiting.push(account);
        this.pump();
      }, wait));
    } else {
      await store.finished(account.key, { state: 'failed', exitCode: outcome.exitCode, error: outcome.line, messages: outcome.messages, bytes: outcome.bytes, durationMs: outcome.durationMs });
      events({ type: 'finished', account, outcome, state: 'failed' });
    }
    this.pump();
  }
}

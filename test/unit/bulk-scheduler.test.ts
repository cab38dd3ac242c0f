import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountOutcome, AccountRunner } from '../../src/bulk/account-runner.js';
import type { BulkAccount } from '../../src/bulk/bulk-account.js';
import { HostGate, type HostClaim } from '../../src/bulk/host-gate.js';
import { InProcessScheduler } from '../../src/bulk/in-process-scheduler.js';
import type { SchedulerEvent } from '../../src/bulk/scheduler.js';
import { SqliteStatusStore } from '../../src/bulk/sqlite-status-store.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const account = (key: string, host: string): BulkAccount => ({ key, origin: { file: 'list.csv', line: 2 }, from: `imap://u@${host}:143`, to: `imap://v@dest.example:143`, options: {} });
const ok: AccountOutcome = { exit: 'ok', exitCode: 0, transient: false, messages: 1, bytes: 10, durationMs: 5 };

/** A runner that takes `ms` per attempt and records how many accounts of each source host ran at once. */
function timedRunner(ms: number, outcomes: (key: string, attempt: number) => AccountOutcome = () => ok) {
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  const attempts = new Map<string, number>();
  const runner: AccountRunner = {
    async run(a, io) {
      const host = new URL(a.from).hostname;
      running.set(host, (running.get(host) ?? 0) + 1);
      peak.set(host, Math.max(peak.get(host) ?? 0, running.get(host)!));
      attempts.set(a.key, (attempts.get(a.key) ?? 0) + 1);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        io.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      running.set(host, running.get(host)! - 1);
      if (io.signal.aborted) return { ...ok, exit: 'interrupted', exitCode: 130 };
      return outcomes(a.key, attempts.get(a.key)!);
    },
  };
  return { runner, peak, attempts };
}

async function setup(accounts: BulkAccount[], runner: AccountRunner, opts: { parallel: number; maxPerHost?: number; retries?: number; signal?: AbortSignal; claims?: (a: BulkAccount) => HostClaim[] }) {
  const dir = mkdtempSync(join(tmpdir(), 'mf-bulk-unit-'));
  dirs.push(dir);
  const store = SqliteStatusStore.forRun(join(dir, 'status.sqlite'), { command: 'migrate', list: 'list.csv' });
  const files = (a: BulkAccount) => ({ checkpoint: join(dir, `${a.key}.sqlite`), log: join(dir, `${a.key}.log`) });
  await store.enroll(accounts, files);
  const events: SchedulerEvent[] = [];
  const scheduler = new InProcessScheduler({
    runner,
    store,
    files,
    parallel: opts.parallel,
    gate: new HostGate(opts.maxPerHost),
    claims: opts.claims ?? ((a) => [{ host: new URL(a.from).hostname, connections: 2 }]),
    retries: opts.retries ?? 3,
    signal: opts.signal ?? new AbortController().signal,
    events: (e) => events.push(e),
  });
  return { scheduler, store, events };
}

describe('the in-process scheduler', () => {
  it('runs no more than --max-per-host accounts against one host, while another host uses the free places', async () => {
    const accounts = [...Array.from({ length: 6 }, (_, i) => account(`a${i}`, 'busy.example')), account('b0', 'other.example'), account('b1', 'other.example')];
    const { runner, peak } = timedRunner(40);
    const { scheduler, store } = await setup(accounts, runner, { parallel: 4, maxPerHost: 2 });
    await scheduler.run(accounts);
    expect(peak.get('busy.example')).toBe(2);
    expect(peak.get('other.example')).toBe(2);
    expect((await store.snapshot()).accounts.every((a) => a.state === 'done')).toBe(true);
    await store.close();
  });

  it("honours a profile's connections per host across accounts", async () => {
    const accounts = Array.from({ length: 5 }, (_, i) => account(`a${i}`, 'capped.example'));
    const { runner, peak } = timedRunner(30);
    const { scheduler, store } = await setup(accounts, runner, { parallel: 5, claims: (a) => [{ host: new URL(a.from).hostname, connections: 4, connectionCap: 8 }] });
    await scheduler.run(accounts);
    expect(peak.get('capped.example')).toBe(2);
    await store.close();
  });

  it('retries a transient failure up to --retries, never an authentication failure', async () => {
    process.env.MAILFERRY_BULK_RETRY_BASE_MS = '5';
    const accounts = [account('flaky', 'h.example'), account('down', 'h.example'), account('wrong', 'h.example')];
    const transient: AccountOutcome = { ...ok, exit: 'connection', exitCode: 4, transient: true, line: 'connection refused' };
    const { runner, attempts } = timedRunner(1, (key, attempt) =>
      key === 'flaky' ? (attempt < 3 ? transient : ok) : key === 'down' ? transient : { ...ok, exit: 'auth', exitCode: 3, line: 'authentication failed' },
    );
    const { scheduler, store, events } = await setup(accounts, runner, { parallel: 3, retries: 2 });
    await scheduler.run(accounts);
    delete process.env.MAILFERRY_BULK_RETRY_BASE_MS;
    expect(Object.fromEntries(attempts)).toEqual({ flaky: 3, down: 3, wrong: 1 });
    const states = Object.fromEntries((await store.snapshot()).accounts.map((a) => [a.key, [a.state, a.attempts, a.lastError]]));
    expect(states).toEqual({ flaky: ['done', 3, undefined], down: ['failed', 3, 'connection refused'], wrong: ['failed', 1, 'authentication failed'] });
    expect(events.filter((e) => e.type === 'finished' && e.state === 'retrying')).toHaveLength(4);
    await store.close();
  });

  it('on the stop signal starts nothing more and stops the running accounts, which stay queued', async () => {
    const stop = new AbortController();
    const accounts = Array.from({ length: 6 }, (_, i) => account(`a${i}`, `h${i}.example`));
    const { runner, attempts } = timedRunner(10_000);
    const { scheduler, store } = await setup(accounts, runner, { parallel: 2, signal: stop.signal });
    setTimeout(() => stop.abort(), 30);
    await scheduler.run(accounts);
    expect(attempts.size).toBe(2);
    expect((await store.snapshot()).accounts.map((a) => a.state)).toEqual(accounts.map(() => 'queued'));
    await store.close();
  });
});

// `bulk migrate --queue` and `mailferry worker`: a campaign spread over worker processes through a
// private Redis (BullMQ), against a real Dovecot. Workers die with kill -9 in the middle of an
// account and are restarted; every account still ends equal, none twice.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignSnapshot } from '../src/bulk/account-status.js';
import type { CampaignTotals } from '../src/bulk/campaign-totals.js';
import { generateCorpus, type CorpusMessage } from '../src/sandbox/corpus.js';
import { freePortPair, startDovecot, type DovecotServer, type DovecotUser } from '../src/sandbox/dovecot-server.js';
import { redisServerInstalled, startRedis, type RedisServer } from '../src/sandbox/redis-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli, startCli, type CliRun } from './support/cli.js';
import { chromiumMissing, dumpDom } from './support/headless-chromium.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { startSlowLink, type SlowLink } from './support/slow-link.js';

const installed = await redisServerInstalled();
if (!installed) console.warn('skipping the distributed bulk tests: /usr/bin/redis-server is missing (apt-get install -y redis-server)');

/** Every account's password, and the canary that no Redis key, log or output may ever hold. */
const PASSWORD = 'Canary-queue-pw-3Zr8';
const pad = (n: number): string => String(n).padStart(2, '0');
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ALL = range(1, 50);
/** Accounts whose destination is behind a slow link: long enough to kill a worker in their middle. */
const SLOW = range(1, 6);

let server: DovecotServer;
let redis: RedisServer;
let slow: SlowLink;
const work = mkdtempSync(join(tmpdir(), 'mf-bulk-queue-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, MAILFERRY_BULK_RETRY_BASE_MS: '2000' };
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string, port = server.port) => `imap://${user}@${server.host}:${port}`;
const tls = () => ['--from-ca', server.caFile, '--to-ca', server.caFile];
const outputs: string[] = [];

function mailbox(seed: number, count: number, maxSize: number): CorpusMessage[] {
  return [...generateCorpus({ seed, messages: count, maxSize })].map((m, i) => ({ ...m, folder: i % 3 === 0 ? 'Sent' : 'INBOX' }));
}

interface Worker {
  name: string;
  child: ReturnType<typeof startCli>['child'];
  done: Promise<CliRun>;
}

function startWorker(name: string, queueName = 'mailferry'): Worker {
  const { child, done } = startCli(
    ['worker', '--queue', redis.url, '--queue-name', queueName, '--parallel', '2', '--lock-duration', '5', '--state-dir', join(work, `state-${name}`)],
    env,
  );
  return { name, child, done };
}

async function queueStatus(queueName = 'mailferry'): Promise<CampaignSnapshot & { totals: CampaignTotals }> {
  const run = await runCli(['bulk', 'status', '--queue', redis.url, '--queue-name', queueName, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

/** The status once the campaign is in the queue (the enqueuing command may not have got there yet). */
async function queueStatusIfAny(queueName = 'mailferry'): Promise<CampaignSnapshot | undefined> {
  const run = await runCli(['bulk', 'status', '--queue', redis.url, '--queue-name', queueName, '--json']);
  return run.code === 0 ? JSON.parse(run.stdout) : undefined;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!installed)('mailferry worker and bulk migrate --queue: a campaign across worker processes', () => {
  beforeAll(async () => {
    const users: DovecotUser[] = [
      ...ALL.flatMap((i) => [{ name: `s${pad(i)}`, password: PASSWORD }, { name: `d${pad(i)}`, password: PASSWORD }]),
      { name: 'ts', password: PASSWORD },
      { name: 'td', password: PASSWORD },
    ];
    [server, redis] = await Promise.all([startDovecot({ users }), startRedis()]);
    // 150 kB/s for all the slow accounts' uploads together: about 20 s of work in all.
    slow = await startSlowLink({ host: server.host, port: server.port }, 150_000, 'up');
    const seeds = ALL.map((i) => () =>
      seedAccount(addr(`s${pad(i)}`), SLOW.includes(i) ? mailbox(500 + i, 40, 40_000) : mailbox(600 + i, 2 + (i % 6), 20_000), {
        folders: [{ path: 'INBOX' }, { path: 'Sent', specialUse: '\\Sent' }],
      }).then(() => undefined),
    );
    seeds.push(() => seedAccount(addr('ts'), mailbox(700, 40, 40_000), { folders: [{ path: 'INBOX' }, { path: 'Sent', specialUse: '\\Sent' }] }).then(() => undefined));
    for (let i = 0; i < seeds.length; i += 8) await Promise.all(seeds.slice(i, i + 8).map((s) => s()));
  }, 300_000);

  afterAll(async () => {
    await slow?.close();
    await redis?.stop();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('3 workers, one kill -9\'d in the middle of an account three times and restarted: every account equal, none twice, each done once', async () => {
    const list = join(work, 'fifty.csv');
    writeFileSync(list, ['id,from,to', ...ALL.map((i) => `acct${pad(i)},${url(`s${pad(i)}`)},${url(`d${pad(i)}`, SLOW.includes(i) ? slow.port : server.port)}`)].join('\n') + '\n');
    const workers = new Map<string, Worker>(['w1', 'w2', 'w3'].map((n) => [n, startWorker(n)]));
    const follow = startCli(['bulk', 'migrate', list, '--queue', redis.url, ...tls(), '--connections', '2'], env);
    const ended: CliRun[] = [];
    try {
      for (let kill = 1; kill <= 3; kill++) {
        // A slow account that a live worker has been running for a moment: kill that worker.
        const victim = await until(`a running slow account (kill ${kill})`, async () => {
          const running = ((await queueStatusIfAny())?.accounts ?? []).filter((a) => a.state === 'running' && SLOW.some((i) => a.id === `acct${pad(i)}`));
          for (const a of running) {
            const pid = Number(a.worker?.split(':').pop());
            const owner = [...workers.values()].find((w) => w.child.pid === pid);
            if (owner) return owner;
          }
          return undefined;
        });
        await new Promise((r) => setTimeout(r, 700));
        victim.child.kill('SIGKILL');
        ended.push(await victim.done);
        workers.set(victim.name, startWorker(`${victim.name}-${kill}`));
      }
      const run = await follow.done;
      outputs.push(run.stdout, run.stderr);
      expect(run.code, run.stderr).toBe(0);
    } finally {
      for (const w of workers.values()) w.child.kill('SIGTERM');
      for (const w of workers.values()) ended.push(await w.done);
    }
    for (const e of ended) outputs.push(e.stdout, e.stderr);

    for (const i of ALL) {
      const diff = diffSnapshots(await snapshotAccount(addr(`s${pad(i)}`)), await snapshotAccount(addr(`d${pad(i)}`)));
      expect(diff.details, `acct${pad(i)}`).toEqual([]);
      expect(diff.duplicates, `acct${pad(i)}`).toBe(0);
    }
    const snapshot = await queueStatus();
    expect(snapshot.totals.byState).toMatchObject({ done: 50, failed: 0, queued: 0, running: 0, retrying: 0 });
    // Each account ran to completion once: one "done" line in all the workers' output together.
    const workerText = ended.map((e) => e.stderr).join('\n');
    for (const i of ALL) expect(workerText.match(new RegExp(`^acct${pad(i)}: done`, 'gm')) ?? [], `acct${pad(i)}`).toHaveLength(1);
    expect(snapshot.accounts.filter((a) => a.attempts > 1).length).toBeGreaterThanOrEqual(3);

    // The reports beside the list say what the status says.
    const reports = join(work, 'fifty.report');
    const json = JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8')) as { totals: CampaignTotals; accounts: unknown[] };
    expect(json.totals).toEqual(snapshot.totals);
    expect(json.accounts).toHaveLength(50);
    const csv = readFileSync(join(reports, 'report.csv'), 'utf8').trim().split('\r\n');
    expect(csv).toHaveLength(51);
    expect(csv.slice(1).filter((row) => row.includes(',done,'))).toHaveLength(50);
    if (chromiumMissing() === undefined) {
      const dom = await dumpDom(`file://${join(reports, 'report.html')}`);
      for (const i of ALL) expect(dom).toContain(`acct${pad(i)}`);
      expect(dom).toMatch(/<svg[^>]*>[\s\S]*<(polyline|path)/);
    }
  }, 300_000);

  it('enqueuing the same list again adds no job, and rechecks every account: all done, nothing copied', async () => {
    const jobs = async () => (await redis.keys()).filter((k) => /^bull:mailferry:account\./.test(k)).sort();
    const before = await jobs();
    expect(before).toHaveLength(50);
    const worker = startWorker('again');
    const run = await runCli(['bulk', 'migrate', join(work, 'fifty.csv'), '--queue', redis.url, ...tls(), '--json'], env);
    worker.child.kill('SIGTERM');
    const stopped = await worker.done;
    outputs.push(run.stdout, run.stderr, stopped.stderr);
    expect(run.code, run.stderr).toBe(0);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(await jobs()).toEqual(before);
    const snapshot = JSON.parse(run.stdout) as CampaignSnapshot & { totals: CampaignTotals };
    expect(snapshot.totals.byState.done).toBe(50);
    expect(stopped.stderr.match(/^acct\d\d: done, 0 copied/gm)).toHaveLength(50);
  }, 120_000);

  it('a worker stopped with SIGTERM in the middle of an account exits 0 and puts it back; another worker finishes it', async () => {
    const list = join(work, 'one.csv');
    writeFileSync(list, `id,from,to\nlate,${url('ts')},${url('td', slow.port)}\n`);
    const first = startWorker('term-1', 'term');
    const follow = startCli(['bulk', 'migrate', list, '--queue', redis.url, '--queue-name', 'term', ...tls()], env);
    await until('the account running', async () => ((await queueStatusIfAny('term'))?.accounts[0]?.state === 'running' ? true : undefined));
    await new Promise((r) => setTimeout(r, 1000));
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toMatch(/late: stopped, back in the queue/);
    const second = startWorker('term-2', 'term');
    const run = await follow.done;
    second.child.kill('SIGTERM');
    const secondRun = await second.done;
    outputs.push(stopped.stderr, run.stdout, run.stderr, secondRun.stderr);
    expect(run.code, run.stderr).toBe(0);
    expect(secondRun.stderr).toMatch(/^late: done/m);
    const diff = diffSnapshots(await snapshotAccount(addr('ts')), await snapshotAccount(addr('td')));
    expect(diff.details).toEqual([]);
    expect(diff.duplicates).toBe(0);
  }, 120_000);

  it('a Redis that is down or refuses the password: exit 4 with one line, before anything starts', async () => {
    const list = join(work, 'fifty.csv');
    const [port] = await freePortPair('127.0.0.1');
    const down = await runCli(['bulk', 'migrate', list, '--queue', `redis://127.0.0.1:${port}`], env);
    expect(down.code).toBe(4);
    expect(down.stderr.trim().split('\n')).toEqual([`error: queue redis://127.0.0.1:${port}/0: connection refused (is redis-server running there?)`]);
    const guarded = await startRedis({ password: 'queue-secret' });
    // The worker would take the queue's password from the environment: here, a wrong one.
    try {
      const refused = await runCli(['worker', '--queue', `redis://127.0.0.1:${guarded.port}`], { ...env, MAILFERRY_QUEUE_PASSWORD: 'wrong' });
      expect(refused.code).toBe(4);
      expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: queue redis:\/\/127\.0\.0\.1:\d+\/0: the server refused the password/)]);
    } finally {
      await guarded.stop();
    }
  });

  it('no password in Redis, the workers\' logs and checkpoints, or any output', async () => {
    expect(await redis.dump()).not.toContain(PASSWORD);
    for (const text of outputs) expect(text).not.toContain(PASSWORD);
    const files = readdirSync(work, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name)).includes(PASSWORD), f.name).toBe(false);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { runCli } from './support/cli.js';
import { startFaultProxy, type FaultPlan } from './support/imap-fault-proxy.js';

const PASSWORD = 'pw-Throttle-5';
const work = mkdtempSync(join(tmpdir(), 'mf-throttle-'));
let server: DovecotServer;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const BODY_FETCH = /^\S+ UID FETCH \S+ \(.*BODY\.PEEK\[\]/;

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 77, messages: 400, folders: 6 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

/** Migrates src (through a fault proxy) into `dest`; returns the run and what the proxy did. */
async function migrateThrough(plan: FaultPlan, dest: string) {
  const proxy = await startFaultProxy({ host: server.host, port: server.port }, plan);
  try {
    const started = Date.now();
    const run = await runCli(
      ['migrate', '--from', `imap://src@127.0.0.1:${proxy.port}`, '--to', `imap://${dest}@${server.host}:${server.port}`, '--to-ca', server.caFile, '--state', join(work, `${dest}.sqlite`), '--json', '--connections', '2'],
      env,
    );
    return { run, seconds: (Date.now() - started) / 1000, log: [...proxy.log] };
  } finally {
    await proxy.close();
  }
}

async function expectEqual(dest: string): Promise<void> {
  const diff = diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr(dest)));
  expect(diff.details).toEqual([]);
}

describe('provider throttling and disconnects pause the run, then it resumes: nothing lost, nothing duplicated', () => {
  it('Microsoft 365 "Request is throttled. Suggested Backoff Time"', async () => {
    const { run, seconds, log } = await migrateThrough(
      { injections: [{ match: BODY_FETCH, nth: 3, reply: (tag) => `${tag} BAD Request is throttled. Suggested Backoff Time: 2000 milliseconds\r\n` }] },
      'd1',
    );
    expect(log).toHaveLength(1);
    expect(run.code).toBe(0);
    expect(seconds).toBeGreaterThan(2);
    await expectEqual('d1');
  });

  it('Gmail [THROTTLED]', async () => {
    const { run, log } = await migrateThrough(
      { injections: [{ match: BODY_FETCH, nth: 2, reply: (tag) => `${tag} NO [THROTTLED] Account exceeded command or bandwidth limits. (Failure)\r\n` }] },
      'd2',
    );
    expect(log).toHaveLength(1);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/throttling.*pausing every connection/);
    await expectEqual('d2');
  });

  it('Gmail [THROTTLED] in answer to the first FETCH of a whole folder (a small folder\'s, sent with its EXAMINE)', async () => {
    const { run, log } = await migrateThrough(
      { injections: [{ match: /^\S+ UID FETCH 1:\* \(.*BODY\.PEEK\[\]/, nth: 1, reply: (tag) => `${tag} NO [THROTTLED] Account exceeded command or bandwidth limits. (Failure)\r\n` }] },
      'd7',
    );
    expect(log).toHaveLength(1);
    expect(run.code).toBe(0);
    expect(run.stderr, 'the refusal was taken for a plain one and the FETCH asked again at once').toMatch(/throttling.*pausing every connection/);
    await expectEqual('d7');
  });

  it('a BYE in the middle of a fetch', async () => {
    const { run, log } = await migrateThrough({ byeAfter: { connection: 2, bytes: 300_000 } }, 'd3');
    expect(log.join()).toMatch(/bye on connection 2/);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/retry 1 of/);
    // The report counts what the broken attempt copied too.
    const t = JSON.parse(run.stdout).totals;
    expect(t.copied + t.present).toBe(400);
    await expectEqual('d3');
  });
});

describe('a session dropped between commands', () => {
  it('right after a folder was opened, the folder is retried, never taken for empty', async () => {
    const { run, log } = await migrateThrough({ byeAfterReply: { match: /^\S+ EXAMINE /, nth: 3 } }, 'd6');
    expect(log.join()).toMatch(/bye after the reply/);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/lost while|failed while/);
    await expectEqual('d6');
  });
});

describe('daily caps and rate limits', () => {
  const direct = (dest: string, extra: string[]) =>
    runCli(['migrate', '--from', `imap://src@${server.host}:${server.port}`, '--to', `imap://${dest}@${server.host}:${server.port}`, '--from-ca', server.caFile, '--to-ca', server.caFile, '--state', join(work, `${dest}.sqlite`), '--json', ...extra], env);

  it('stops cleanly with exit 6 at the daily download cap, remembers what was moved today, and resumes without duplicates', async () => {
    const first = await direct('d4', ['--daily-limit-down', '1500000']);
    expect(first.code).toBe(6);
    expect(first.stderr).toMatch(/^error: daily download limit of 1\.5 MB for imap:\/\/src@127\.0\.0\.1:\d+ reached \(\d+\.\d MB moved today\); rerun after \d{4}-\d\d-\d\d 00:00 UTC resumes$/m);
    // The same day, the same cap: what the first run moved still counts.
    const again = await direct('d4', ['--daily-limit-down', '1500000', '--connections', '1']);
    expect(again.code).toBe(6);
    const raised = await direct('d4', ['--daily-limit-down', '100000000']);
    expect(raised.code).toBe(0);
    await expectEqual('d4');
  });

  it('--max-messages-per-second holds the pace', async () => {
    const started = Date.now();
    const run = await direct('d5', ['--folder', 'INBOX', '--max-messages-per-second', '100']);
    expect(run.code).toBe(0);
    const copied = JSON.parse(run.stdout).totals.copied as number;
    expect(copied).toBeGreaterThan(100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(((copied - 250) / 100) * 1000);
  });
});

import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli, startCli } from './support/cli.js';
import { withImapClient } from './support/imap-client.js';
import { startFaultProxy, type FaultPlan } from './support/imap-fault-proxy.js';
import { snapshotBackup } from './support/backup-snapshot.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { prng } from './support/prng.js';
import { startSlowLink } from './support/slow-link.js';

/**
 * A message of 4 MB or more is passed from the source's FETCH to the destination's APPEND as it
 * arrives (pieces of 1 MB, `BODY.PEEK[]<offset.length>`), never held whole: its download and
 * upload overlap. Exactly once still holds: the APPEND intent, with the message's SHA-256, is
 * journaled before its last bytes are sent, and a destination stores nothing of an APPEND whose
 * literal never ended.
 */
const PASSWORD = 'pw-Streamed-5';
const BIG = [5_000_000, 6_300_000, 9_100_000];
const work = mkdtempSync(join(tmpdir(), 'mf-streamed-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: join(work, 'state') };
let server: DovecotServer;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string, port = server.port) => `imap://${user}@${server.host}:${port}`;
const migrateArgs = (from: string, to: string, state: string, extra: string[] = []) => ['migrate', '--from', from, '--to', to, '--state', join(work, state), '--json', ...extra];
const PIECE_ASKED = /UID FETCH \d+ \(UID BODY\.PEEK\[\]<0\.1048576>\)/g;

async function expectExactlyOnce(src: string, dest: string): Promise<void> {
  const diff = diffSnapshots(await snapshotAccount(addr(src)), await snapshotAccount(addr(dest)));
  expect(diff.details).toEqual([]);
  expect(diff.duplicates).toBe(0);
}

/**
 * Runs `mailferry ARGS` `rounds` times, each killed (kill -9) at a random moment 0.3–3.3 s in if
 * still running; a run that ends by itself must succeed. Answers how many were killed.
 */
async function killedAtRandom(args: string[], rounds: number, seed: number): Promise<number> {
  const random = prng(Number(process.env.FAULT_SEED ?? seed));
  let killed = 0;
  for (let round = 0; round < rounds; round++) {
    const { child, done } = startCli(args, env);
    await new Promise((r) => setTimeout(r, 300 + random() * 3000));
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      killed++;
    }
    const run = await done;
    if (run.signal === null) expect(run.code, run.stderr).toBe(0);
  }
  return killed;
}

beforeAll(async () => {
  server = await startDovecot({ users: ['mixed', 'big', 'grow', ...Array.from({ length: 12 }, (_, i) => `d${i}`)].map((name) => ({ name, password: PASSWORD })) });
  await seedAccount(addr('mixed'), generateCorpus({ seed: 71, messages: 30, maxSize: 200_000, bigMessages: BIG }));
  await seedAccount(addr('big'), generateCorpus({ seed: 72, messages: 0, bigMessages: BIG }));
  await seedAccount(addr('grow'), generateCorpus({ seed: 73, messages: 1 }));
  // Flags and a keyword on the big ones, which travel with the streamed APPEND.
  for (const user of ['mixed', 'big']) {
    await withImapClient(addr(user), async (c) => {
      await c.mailboxOpen('INBOX');
      const big = (await c.search({ larger: 4_000_000 }, { uid: true })) || [];
      expect(big).toHaveLength(BIG.length);
      await c.messageFlagsAdd(big.join(','), ['\\Flagged', '\\Seen', '$Streamed'], { uid: true });
    });
  }
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

describe('big messages streamed from the source to the destination', () => {
  it('copies each big message in pieces as it arrives, byte for byte with its flags, keywords and date; a rerun copies nothing', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, {});
    try {
      const run = await runCli(migrateArgs(url('mixed', proxy.port), url('d0'), 'mixed-d0.sqlite', ['--connections', '2']), env);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).totals).toMatchObject({ failed: 0 });
      // Each big message was asked for in pieces, from its start; no whole FETCH of it.
      expect(proxy.upstreamBytes().toString('latin1').match(PIECE_ASKED)).toHaveLength(BIG.length);
      await expectExactlyOnce('mixed', 'd0');
      const rerun = await runCli(migrateArgs(url('mixed'), url('d0'), 'mixed-d0.sqlite'), env);
      expect(JSON.parse(rerun.stdout).totals).toMatchObject({ copied: 0, failed: 0 });
    } finally {
      await proxy.close();
    }
  }, 180_000);

  const faults: Array<{ name: string; plan: FaultPlan; done: RegExp }> = [
    { name: 'the source connection reset inside a piece', plan: { cuts: [{ kind: 'rst', at: { inside: 'fetch-literal', nth: 6 } }] }, done: /inside a fetch-literal/ },
    { name: 'the destination connection closed inside the streamed APPEND', plan: { cuts: [{ kind: 'fin', at: { inside: 'append-literal', nth: 2 } }] }, done: /inside a append-literal/ },
  ];
  for (const [i, fault] of faults.entries()) {
    it(`${fault.name}: the run resumes, and every message is there once`, async () => {
      const proxy = await startFaultProxy({ host: server.host, port: server.port }, fault.plan);
      const dest = `d${i + 1}`;
      try {
        const run = await runCli(migrateArgs(url('big', proxy.port), url(dest, proxy.port), `big-${dest}.sqlite`, ['--connections', '1']), env);
        expect(proxy.log.join('\n')).toMatch(fault.done);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toMatch(/retry 1 of/);
      } finally {
        await proxy.close();
      }
      await expectExactlyOnce('big', dest);
    }, 180_000);
  }

  it('the answer to a streamed APPEND lost after the server stored it, on a rerun that takes new mail: the journaled intent finds the copy, none is made twice', async () => {
    // A rerun copies only new UIDs and looks for a lost answer's message only where its intent
    // says: without the intent journaled before the APPEND ended, the retry would copy it again.
    expect((await runCli(migrateArgs(url('grow'), url('d3'), 'grow-d3.sqlite'), env)).code).toBe(0);
    await seedAccount(addr('grow'), generateCorpus({ seed: 74, messages: 0, bigMessages: [4_500_000, 5_500_000] }));
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, { cuts: [{ kind: 'rst', at: { beforeReplyTo: /^\S+ APPEND /, nth: 1 } }] });
    try {
      const run = await runCli(migrateArgs(url('grow', proxy.port), url('d3', proxy.port), 'grow-d3.sqlite', ['--connections', '1']), env);
      expect(proxy.log.join('\n')).toMatch(/before the answer/);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/retry 1 of/);
      expect(JSON.parse(run.stdout).totals).toMatchObject({ copied: 1, present: 1, failed: 0 });
    } finally {
      await proxy.close();
    }
    await expectExactlyOnce('grow', 'd3');
  }, 180_000);

  it('killed (kill -9) at random moments while big messages are streamed, then rerun: every message once', async () => {
    // 3 MB/s up to the destination: each run spends seconds inside streamed APPENDs.
    const link = await startSlowLink({ host: server.host, port: server.port }, 3_000_000, 'up');
    try {
      expect(await killedAtRandom(migrateArgs(url('big'), url('d5', link.port), 'big-d5.sqlite', ['--connections', '2']), 8, 5)).toBeGreaterThan(3);
    } finally {
      await link.close();
    }
    const last = await runCli(migrateArgs(url('big'), url('d5'), 'big-d5.sqlite'), env);
    expect(last.code, last.stderr).toBe(0);
    await expectExactlyOnce('big', 'd5');
  }, 300_000);

  it('a backup to Maildir writes each big message to tmp/ as it arrives: the backup holds every message once, byte for byte, and nothing is left in tmp/', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, {});
    const to = join(work, 'backup-mixed');
    try {
      const run = await runCli(['backup', '--from', url('mixed', proxy.port), '--to', to, '--format', 'maildir', '--connections', '2', '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(proxy.upstreamBytes().toString('latin1').match(PIECE_ASKED)).toHaveLength(BIG.length);
    } finally {
      await proxy.close();
    }
    const diff = diffSnapshots(await snapshotAccount(addr('mixed')), await snapshotBackup(to));
    expect(diff.details).toEqual([]);
    expect(readdirSync(join(to, 'Maildir', 'tmp'))).toEqual([]);
    const rerun = await runCli(['backup', '--from', url('mixed'), '--to', to, '--format', 'maildir', '--json'], env);
    expect(JSON.parse(rerun.stdout).totals).toMatchObject({ copied: 0, failed: 0 });
  }, 180_000);

  it('a backup killed (kill -9) at random moments while big messages are streamed to disk, then rerun: every message once, check finds the backup whole', async () => {
    // 3 MB/s down from the server: each run spends seconds inside streamed messages.
    const link = await startSlowLink({ host: server.host, port: server.port }, 3_000_000, 'down');
    const to = join(work, 'backup-big');
    try {
      expect(await killedAtRandom(['backup', '--from', url('big', link.port), '--to', to, '--format', 'maildir', '--connections', '2', '--json'], 6, 7)).toBeGreaterThan(2);
    } finally {
      await link.close();
    }
    expect((await runCli(['backup', '--from', url('big'), '--to', to, '--format', 'maildir', '--json'], env)).code).toBe(0);
    const diff = diffSnapshots(await snapshotAccount(addr('big')), await snapshotBackup(to));
    expect(diff.details).toEqual([]);
    expect(diff.duplicates).toBe(0);
    const check = await runCli(['check', to], env);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  }, 300_000);

  it('a server whose sizes are wrong: the message is found to be of another size before its APPEND can end, and is then copied whole', async () => {
    // Every RFC822.SIZE one more than the message: the last piece comes back short.
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, {
      rewriteLines: (line) => line.replace(/RFC822\.SIZE (\d+)/, (_, n: string) => `RFC822.SIZE ${Number(n) + 1}`),
    });
    try {
      const run = await runCli(migrateArgs(url('big', proxy.port), url('d6'), 'big-d6.sqlite', ['--connections', '1']), env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/not of its listed size/);
      expect(JSON.parse(run.stdout).totals).toMatchObject({ copied: BIG.length, failed: 0 });
    } finally {
      await proxy.close();
    }
    await expectExactlyOnce('big', 'd6');
  }, 180_000);
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { runCli, startCli } from './support/cli.js';
import { prng } from './support/prng.js';

const PASSWORD = 'pw-Migrate-1';
const USERS = ['src', 'dst', 'ksrc', 'kdst', 'usrc', 'udst', 'isrc', 'idst', 'sdst', 'pdst', 'bdst'];
let server: DovecotServer;
const work = mkdtempSync(join(tmpdir(), 'mf-migrate-'));

const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };

function migrateArgs(from: string, to: string, state: string, extra: string[] = []): string[] {
  return ['migrate', '--from', url(from), '--to', url(to), '--from-ca', server.caFile, '--to-ca', server.caFile, '--state', join(work, state), '--json', ...extra];
}

async function seed(user: string, seedValue: number, messages: number, folders?: number): Promise<void> {
  const opts = { seed: seedValue, messages, folders };
  await seedAccount(addr(user), generateCorpus(opts), { folders: corpusFolders(opts) });
}

async function withClient<T>(user: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = new ImapFlow({ host: server.host, port: server.port, secure: false, doSTARTTLS: false, auth: { user, pass: PASSWORD }, logger: false });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}

/** UIDNEXT of every folder: unchanged means no APPEND happened. */
async function uidNexts(user: string): Promise<Record<string, number>> {
  return withClient(user, async (c) => {
    const out: Record<string, number> = {};
    for (const f of await c.list({ statusQuery: { uidNext: true } })) out[f.path] = f.status?.uidNext ?? -1;
    return out;
  });
}

beforeAll(async () => {
  server = await startDovecot({ users: USERS.map((name) => ({ name, password: PASSWORD })) });
  await Promise.all([seed('src', 11, 2000, 18), seed('ksrc', 12, 600, 8), seed('usrc', 13, 150, 4), seed('isrc', 14, 120, 4)]);
}, 300_000);

afterAll(async () => {
  await server?.stop();
});

describe('mailferry migrate against a real Dovecot', () => {
  it('copies a 2,000-message, 18-folder account exactly: no message missing, extra, duplicated, or with other flags or date', async () => {
    const run = await runCli(migrateArgs('src', 'dst', 'full.sqlite'), env);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.totals.copied).toBe(2000);
    expect(summary.totals.folders).toBeGreaterThanOrEqual(15);

    const diff = diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr('dst')));
    expect(diff.details).toEqual([]);
    expect(diff.equal).toBe(true);
  });

  it('reruns without changes append nothing; then carries exactly one new message and one flag change', async () => {
    const before = await uidNexts('dst');
    const again = await runCli(migrateArgs('src', 'dst', 'full.sqlite'), env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).totals).toMatchObject({ copied: 0, flagsUpdated: 0, failed: 0 });
    expect(await uidNexts('dst')).toEqual(before);

    await withClient('src', async (c) => {
      await c.append('INBOX', Buffer.from('From: a@example.org\r\nSubject: new one\r\nMessage-ID: <new@x>\r\n\r\nhello\r\n'), ['\\Flagged'], new Date('2021-03-04T05:06:07Z'));
      await c.mailboxOpen('Work');
      await c.messageFlagsAdd('1', ['\\Answered', '$Label1'], { uid: true });
    });
    const third = await runCli(migrateArgs('src', 'dst', 'full.sqlite'), env);
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout).totals).toMatchObject({ copied: 1, flagsUpdated: 1 });
    const diff = diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr('dst')));
    expect(diff.details).toEqual([]);
  });

  it('survives kill -9 at 20 random moments: the final account equals the source, with no duplicates', async () => {
    const random = prng(20261125);
    let killed = 0;
    for (let i = 0; i < 20; i++) {
      // Paced so that the copy spans the kill moments on a fast machine too: unpaced, the first
      // run or two copied all 600 messages and the rest were killed, if at all, as no-change reruns.
      const { child, done } = startCli(migrateArgs('ksrc', 'kdst', 'kill.sqlite', ['--connections', '3', '--max-messages-per-second', '120']), env);
      await new Promise((r) => setTimeout(r, 100 + random() * 1000));
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        killed++;
      }
      const run = await done;
      if (run.signal === null) expect(run.code).toBe(0);
    }
    expect(killed).toBeGreaterThan(15);
    const last = await runCli(migrateArgs('ksrc', 'kdst', 'kill.sqlite'), env);
    expect(last.code).toBe(0);
    const diff = diffSnapshots(await snapshotAccount(addr('ksrc')), await snapshotAccount(addr('kdst')));
    expect(diff.details).toEqual([]);
    expect(diff.duplicates).toBe(0);
  }, 240_000);

  it('Ctrl-C stops with exit 130, and a rerun completes with every message once', async () => {
    const { child, done } = startCli(migrateArgs('ksrc', 'sdst', 'sigint.sqlite', ['--connections', '1']), env);
    // Interrupt once copying is under way.
    while (Object.values(await uidNexts('sdst')).reduce((a, n) => a + n - 1, 0) === 0) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/interrupted/);
    const rerun = await runCli(migrateArgs('ksrc', 'sdst', 'sigint.sqlite'), env);
    expect(rerun.code).toBe(0);
    const diff = diffSnapshots(await snapshotAccount(addr('ksrc')), await snapshotAccount(addr('sdst')));
    expect(diff.details).toEqual([]);
  });

  it('a source UIDVALIDITY reset between runs neither duplicates nor loses a message', async () => {
    expect((await runCli(migrateArgs('usrc', 'udst', 'uv.sqlite'), env)).code).toBe(0);
    await server.doveadm(['mailbox', 'update', '-u', 'usrc', '--uid-validity', '12345', 'INBOX']);
    const rerun = await runCli(migrateArgs('usrc', 'udst', 'uv.sqlite'), env);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toMatch(/UIDVALIDITY changed/);
    expect(JSON.parse(rerun.stdout).totals.copied).toBe(0);
    const diff = diffSnapshots(await snapshotAccount(addr('usrc')), await snapshotAccount(addr('udst')));
    expect(diff.details).toEqual([]);
  });

  it('recognises mail already at the destination when the checkpoint is lost', async () => {
    expect((await runCli(migrateArgs('isrc', 'idst', 'lost-1.sqlite'), env)).code).toBe(0);
    const before = await uidNexts('idst');
    const fresh = await runCli(migrateArgs('isrc', 'idst', 'lost-2.sqlite'), env);
    expect(fresh.code).toBe(0);
    expect(JSON.parse(fresh.stdout).totals).toMatchObject({ copied: 0, present: 120 });
    expect(await uidNexts('idst')).toEqual(before);
  });

  it('appends each batch as one MULTIAPPEND with non-synchronizing literals: no wait for "+" continuations', async () => {
    const run = await runCli(migrateArgs('isrc', 'pdst', 'literal-plus.sqlite', ['--debug']), env);
    expect(run.code).toBe(0);
    const lines = run.stderr.split('\n').filter((l) => l.includes('imap://pdst@'));
    const appends = lines.filter((l) => / debug: \S+ APPEND /.test(l));
    expect(appends.length).toBeGreaterThan(0);
    expect(appends.length).toBeLessThan(20);
    expect(appends.some((l) => /\{\d{5,}\+\}|literal/.test(l))).toBe(true);
    expect(lines.filter((l) => / debug: \+ /.test(l))).toEqual([]);
  });

  it('a source with a message limit per command is scanned in chunks, and nothing is cut short', async () => {
    const profile = join(work, 'limit.json');
    writeFileSync(profile, JSON.stringify({ dovecot: { quirks: { maxBatch: 7 } } }));
    const run = await runCli(migrateArgs('isrc', 'bdst', 'limit.sqlite', ['--from-profile', 'dovecot', '--profile-file', profile, '--debug']), env);
    expect(run.code).toBe(0);
    const fetches = run.stderr.split('\n').filter((l) => l.includes('imap://isrc@') && / UID FETCH \S+ \(/.test(l));
    expect(fetches.length).toBeGreaterThan(2 * 120 / 7);
    const sizes = fetches.map((l) => / UID FETCH (\S+) /.exec(l)![1]!.split(',').reduce((n, part) => {
      const [a, b] = part.split(':').map(Number);
      return n + (b === undefined ? 1 : b - a! + 1);
    }, 0));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(7);
    const diff = diffSnapshots(await snapshotAccount(addr('isrc')), await snapshotAccount(addr('bdst')));
    expect(diff.details).toEqual([]);
  });

  it('dry-run prints the mapping and writes nothing', async () => {
    const before = await uidNexts('idst');
    const run = await runCli([...migrateArgs('src', 'idst', 'dry.sqlite'), '--dry-run'], env);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    // Without a checkpoint into an empty account: it would copy every message, and has copied none.
    expect(summary).toMatchObject({ dryRun: true, totals: { copied: summary.totals.found, skipped: 0 } });
    expect(await uidNexts('idst')).toEqual(before);
  });
});

describe('mailferry migrate refuses bad input with one line and a documented exit code', () => {
  const noTrace = (text: string): void => {
    expect(text).not.toMatch(/\n\s+at /);
    expect(text).not.toContain(PASSWORD);
    expect(text.trim().split('\n')).toHaveLength(1);
  };

  it('wrong password: exit 3', async () => {
    const run = await runCli(migrateArgs('src', 'dst', 'bad.sqlite'), { MAILFERRY_FROM_PASSWORD: 'wrong-password', MAILFERRY_TO_PASSWORD: PASSWORD });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: cannot log in to imap:\/\/src@127\.0\.0\.1:\d+: authentication failed$/m);
    noTrace(run.stderr);
    expect(run.stderr).not.toContain('wrong-password');
  });

  it('closed port: exit 4, after a few tries (a server restarting is waited for)', async () => {
    const run = await runCli(['migrate', '--from', 'imap://src@127.0.0.1:1', '--to', url('dst'), '--state', join(work, 'closed.sqlite')], env);
    expect(run.code).toBe(4);
    const lines = run.stderr.trim().split('\n');
    expect(lines.slice(0, -1)).toEqual([1, 2, 3].map((n) => expect.stringMatching(new RegExp(`^warning: connecting: .*connection refused; retry ${n} of 3 in`))));
    expect(lines.at(-1)).toMatch(/^error: .*connection refused/);
    noTrace(lines.at(-1)!);
  });

  it('malformed URL and unknown option: exit 2', async () => {
    const bad = await runCli(['migrate', '--from', 'imap//nope', '--to', url('dst')], env);
    expect(bad.code).toBe(2);
    noTrace(bad.stderr);
    const unknown = await runCli(['migrate', '--from', url('src'), '--to', url('dst'), '--frobnicate'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/frobnicate/);
  });

  it('no password anywhere and no terminal: exit 2 naming the variable', async () => {
    const run = await runCli(['migrate', '--from', url('src'), '--to', url('dst')], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/MAILFERRY_FROM_PASSWORD/);
  });
});

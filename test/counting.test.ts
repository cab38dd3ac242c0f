import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain } from '../src/sandbox/seed.js';
import { MAIN, runCli } from './support/cli.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';

// What runs count and show, as a user meets them: a dry run counts what the run would copy and
// leave out, a rerun with other filters still says what it leaves out, a --map that names no
// folder is refused like a --folder that names none, and a folder's progress bar reaches N/N.

const PASSWORD = 'pw-Filters-2';
const USERS = ['src', 'dst', 'rdst', 'pdst'];
const SINCE = new Date('2020-01-01T00:00:00Z');
const MAX_SIZE = 5000;
let server: DovecotServer;
const work = mkdtempSync(join(tmpdir(), 'mf-filters-'));

const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
const state = join(work, 'inbox.sqlite');

const migrateArgs = (extra: string[]): string[] => [
  'migrate', '--from', url('src'), '--to', url('dst'), '--from-ca', server.caFile, '--to-ca', server.caFile,
  '--folder', 'INBOX', '--map', 'INBOX=SinceTest', '--state', state, ...extra,
];

/** Runs the CLI with --json and answers its INBOX report and totals. */
async function json(args: string[]): Promise<{ inbox: any; totals: any; code: number | null }> {
  const run = await runCli([...args, '--json'], env);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stdout, run.stderr).not.toBe('');
  const summary = JSON.parse(run.stdout);
  return { inbox: summary.folders.find((f: { source: string; destination: string }) => f.source === 'INBOX' || f.destination === 'INBOX'), totals: summary.totals, code: run.code };
}

/** Size and INTERNALDATE of every source INBOX message, as the server reports them. */
let metas: Array<{ size: number; date: Date }>;
const count = (pred: (m: { size: number; date: Date }) => boolean): number => metas.filter(pred).length;
const old = (m: { date: Date }): boolean => m.date < SINCE;
const big = (m: { size: number }): boolean => m.size > MAX_SIZE;

/** Every file under a directory with its SHA-256: equal before and after means nothing was written. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const file = join(dir, name);
    try {
      out[name] = createHash('sha256').update(readFileSync(file)).digest('hex');
    } catch {
      out[name] = 'dir';
    }
  }
  return out;
}

beforeAll(async () => {
  server = await startDovecot({ users: USERS.map((name) => ({ name, password: PASSWORD })) });
  const c = await connectPlain(addr('src'));
  try {
    // 40 messages from 2017 to 2023, 300 B to 12 KB: every mix of old/new and small/big.
    for (let i = 0; i < 40; i++) {
      const body = 'x'.repeat(((i * 7) % 13) * 900 + 300);
      const date = new Date(Date.UTC(2017, 0, 1) + i * 55 * 86_400_000);
      await c.append('INBOX', Buffer.from(`Subject: message ${i}\r\nMessage-ID: <f${i}@test>\r\n\r\n${body}\r\n`), i % 3 === 0 ? ['\\Seen'] : [], date);
    }
    await c.mailboxCreate('Big');
    for (let i = 0; i < 400; i++) await c.append('Big', Buffer.from(`Subject: big ${i}\r\n\r\nbody ${i}\r\n`), [], new Date(Date.UTC(2024, 1, 1)));
    await c.mailboxCreate('Small');
    for (let i = 0; i < 7; i++) await c.append('Small', Buffer.from(`Subject: small ${i}\r\n\r\nhello ${i}\r\n`), [], new Date(Date.UTC(2024, 0, i + 1)));
    const lock = await c.getMailboxLock('INBOX');
    try {
      metas = [];
      for await (const m of c.fetch('1:*', { size: true, internalDate: true })) metas.push({ size: m.size!, date: new Date(m.internalDate!) });
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
  // The fixture must mix all four kinds, or the counts below prove little.
  expect([count((m) => old(m) && big(m)), count((m) => old(m) && !big(m)), count((m) => !old(m) && big(m)), count((m) => !old(m) && !big(m))].every((n) => n > 0)).toBe(true);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('a --map that names no source folder', () => {
  it('is refused with exit 2 and one line naming the map, as --folder is; nothing is created', async () => {
    const run = await runCli(['migrate', '--from', url('src'), '--to', url('dst'), '--from-ca', server.caFile, '--to-ca', server.caFile, '--state', join(work, 'nope.sqlite'), '--map', 'Nope=Old'], env);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/--map Nope=Old: no such folder at the source/);
    expect([...(await snapshotAccount(addr('dst'))).keys()]).not.toContain('Old');
  });
});

describe('migrate: dry runs and reruns with changing filters on one checkpoint', () => {
  it('a first dry run with --since counts what the run copies and skips, and writes nothing', async () => {
    const dry = await json(migrateArgs(['--since', '2020-01-01', '--dry-run']));
    expect(dry.code).toBe(0);
    expect(dry.inbox).toMatchObject({ destination: 'SinceTest', found: 40, copied: count((m) => !old(m)), skipped: { 'before-since': count(old) } });
    expect(dry.inbox.bytes).toBe(metas.filter((m) => !old(m)).reduce((a, m) => a + m.size, 0));
    expect(existsSync(state)).toBe(false);
    expect([...(await snapshotAccount(addr('dst'))).keys()]).not.toContain('SinceTest');

    const plain = await runCli(migrateArgs(['--since', '2020-01-01', '--dry-run']), env);
    expect(plain.stdout).toContain(`INBOX -> SinceTest  (40 messages): would copy ${count((m) => !old(m))} (`);
    expect(plain.stdout).toContain(`skip ${count(old)} before-since`);

    const real = await json(migrateArgs(['--since', '2020-01-01']));
    expect(real.code).toBe(0);
    expect(real.inbox).toMatchObject({ copied: dry.inbox.copied, skipped: dry.inbox.skipped, bytes: dry.inbox.bytes });
  });

  it('with --max-size instead of --since, the dry run and the rerun count the messages still left out', async () => {
    const journal = fingerprint(work);
    const dry = await json(migrateArgs(['--max-size', String(MAX_SIZE), '--dry-run']));
    expect(dry.inbox).toMatchObject({ copied: count((m) => old(m) && !big(m)), skipped: { 'over-max-size': count((m) => old(m) && big(m)) } });
    expect(fingerprint(work)).toEqual(journal);

    const rerun = await json(migrateArgs(['--max-size', String(MAX_SIZE)]));
    expect(rerun.inbox).toMatchObject({ copied: dry.inbox.copied, skipped: dry.inbox.skipped });
    expect(rerun.totals.skipped).toBe(count((m) => old(m) && big(m)));

    // Nothing new: the folder is not even opened, and still its skips are said.
    const again = await json(migrateArgs(['--max-size', String(MAX_SIZE)]));
    expect(again.inbox).toMatchObject({ copied: 0, skipped: { 'over-max-size': count((m) => old(m) && big(m)) } });
    const dryAgain = await json(migrateArgs(['--max-size', String(MAX_SIZE), '--dry-run']));
    expect(dryAgain.inbox).toMatchObject({ copied: 0, skipped: again.inbox.skipped });
  });

  it('without filters, the dry run says the rerun copies exactly what was left out, and it does', async () => {
    const dry = await json(migrateArgs(['--dry-run']));
    expect(dry.inbox).toMatchObject({ copied: count((m) => old(m) && big(m)), skipped: {} });
    const rerun = await json(migrateArgs([]));
    expect(rerun.inbox).toMatchObject({ copied: dry.inbox.copied, skipped: {}, failed: 0 });

    const source = (await snapshotAccount(addr('src'), { folders: ['INBOX'] })).get('INBOX')!;
    const copied = (await snapshotAccount(addr('dst'), { folders: ['SinceTest'] })).get('SinceTest')!;
    const diff = diffSnapshots(new Map([['INBOX', source]]), new Map([['INBOX', copied]]));
    expect(diff.details).toEqual([]);
  });
});

describe('backup and restore dry runs', () => {
  it('count what the run copies and skips, by reason, and write nothing', async () => {
    const dir = join(work, 'backup');
    const backupArgs = ['backup', '--from', url('src'), '--from-ca', server.caFile, '--to', dir, '--folder', 'INBOX', '--since', '2020-01-01'];
    const dry = await json([...backupArgs, '--dry-run']);
    expect(dry.inbox).toMatchObject({ copied: count((m) => !old(m)), skipped: { 'before-since': count(old) } });
    expect(existsSync(dir)).toBe(false);
    const real = await json(backupArgs);
    expect(real.inbox).toMatchObject({ copied: dry.inbox.copied, skipped: dry.inbox.skipped });

    const restoreArgs = ['restore', '--from', dir, '--to', url('rdst'), '--to-ca', server.caFile, '--state', join(work, 'restore.sqlite'), '--max-size', String(MAX_SIZE)];
    const before = await snapshotAccount(addr('rdst'));
    const dryRestore = await json([...restoreArgs, '--dry-run']);
    expect(dryRestore.inbox).toMatchObject({ copied: count((m) => !old(m) && !big(m)), skipped: { 'over-max-size': count((m) => !old(m) && big(m)) } });
    expect(await snapshotAccount(addr('rdst'))).toEqual(before);
    expect(existsSync(join(work, 'restore.sqlite'))).toBe(false);
    const restored = await json(restoreArgs);
    expect(restored.inbox).toMatchObject({ copied: dryRestore.inbox.copied, skipped: dryRestore.inbox.skipped });
  });
});

describe('progress on a terminal', () => {
  it("a small folder's bar reaches N/N before it goes, while a bigger one goes on", async () => {
    // 100 messages a second: Big's two batches (250 + 150) are fetched at 2.5 s and 4 s at the
    // earliest, so Small (7 messages, on the second connection) is through well before the run ends.
    const args = [
      'migrate', '--from', url('src'), '--to', url('pdst'), '--from-ca', server.caFile, '--to-ca', server.caFile,
      '--folder', 'Big', '--folder', 'Small', '--connections', '2', '--max-messages-per-second', '100', '--state', join(work, 'small.sqlite'),
    ];
    // script(1) runs the command on a pseudo-terminal, so mailferry draws its bars as for a user.
    const command = [process.execPath, MAIN, ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env, COLUMNS: '120' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const text = screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(code, text).toBe(0);
    expect(text).toMatch(/migrate: 407 copied/);
    expect(text).toMatch(/Small\s*\[[^\]]*\] 7\/7/);
  });
});

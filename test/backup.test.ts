import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { splitMbox } from './support/mbox-reader.js';
import { backupManifest, snapshotBackup, snapshotMboxFiles, walk } from './support/backup-snapshot.js';
import { MAIN, runCli, type CliRun } from './support/cli.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';

const run = promisify(execFile);
const PASSWORD = 'pw-Backup-3';
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-backup-'));
const dir = (name: string): string => path.join(work, name);
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD };

function backupArgs(user: string, to: string, extra: string[] = []): string[] {
  return ['backup', '--from', `imap://${user}@${server.host}:${server.port}`, '--from-ca', server.caFile, '--to', dir(to), '--json', ...extra];
}

async function backup(user: string, to: string, extra: string[] = []): Promise<CliRun & { summary: any }> {
  const result = await runCli(backupArgs(user, to, extra), env);
  expect(result.stderr).not.toMatch(/error/i);
  expect(result.code).toBe(0);
  return { ...result, summary: JSON.parse(result.stdout) };
}

async function withClient<T>(user: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = await connectPlain(addr(user));
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}

async function seed(user: string, seedValue: number, messages: number, folders?: number): Promise<void> {
  const opts = { seed: seedValue, messages, folders };
  await seedAccount(addr(user), generateCorpus(opts), { folders: corpusFolders(opts) });
}

function expectSame(expected: Snapshot, actual: Snapshot): void {
  const diff = diffSnapshots(expected, actual);
  expect(diff.details).toEqual([]);
  expect(diff.equal).toBe(true);
}

/** Names, sizes and mtimes of everything under `root`: what "nothing was written" compares. */
async function fingerprint(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await walk(root)) {
    const st = await fs.lstat(e.path);
    out.push(`${path.relative(root, e.path)} ${e.type} ${st.size} ${st.mtimeMs}`);
  }
  return out.sort();
}

beforeAll(async () => {
  server = await startDovecot({ users: ['big', 'inc', 'uv'].map((name) => ({ name, password: PASSWORD })) });
  await Promise.all([seed('big', 31, 2000, 18), seed('inc', 32, 150, 6), seed('uv', 33, 80, 3)]);
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('mailferry backup against a real Dovecot', () => {
  let big: Snapshot;

  it('backs up 2,000 messages in 18 folders to Maildir++ that a second Dovecot serves identically, with the same UIDs', async () => {
    big = await snapshotAccount(addr('big'));
    // umask 000: the modes below must come from mailferry, not from the caller's umask.
    const child = spawn('/bin/sh', ['-c', 'umask 000 && exec "$0" "$@"', process.execPath, MAIN, ...backupArgs('big', 'big-maildir')], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    expect(JSON.parse(stdout).totals).toMatchObject({ copied: 2000, failed: 0, folders: 18 });

    const tree = await walk(dir('big-maildir'));
    expect(tree.filter((e) => e.type === 'other' || (e.type === 'dir' ? e.mode !== 0o700 : e.mode !== 0o600))).toEqual([]);
    const manifest = (await backupManifest(dir('big-maildir'))).manifest;
    expect(manifest).toMatchObject({ formatVersion: 1, format: 'maildir', layout: 'maildir++', source: `imap://big@${server.host}:${server.port}` });
    expect(manifest.folders).toHaveLength(18);
    expect(manifest.folders.find((f) => f.name === 'Sent')).toMatchObject({ specialUse: '\\Sent', path: 'Maildir/.Sent', uidValidity: expect.any(Number) });
    const { stdout: grep } = await run('grep', ['-rl', PASSWORD, dir('big-maildir')]).catch((e: { stdout: string }) => e);
    expect(grep).toBe('');

    const second = await startDovecot({ users: [{ name: 'restored', password: PASSWORD }], layout: 'maildir++' });
    try {
      const home = second.mailHome('restored');
      await fs.cp(path.join(dir('big-maildir'), 'Maildir'), path.join(home, 'Maildir'), { recursive: true, preserveTimestamps: true });
      const owner = await fs.stat(home);
      await run('chown', ['-R', `${owner.uid}:${owner.gid}`, path.join(home, 'Maildir')]);
      const served = await snapshotAccount({ host: second.host, port: second.port, user: 'restored', password: PASSWORD });
      expectSame(big, served);
      const uids = (s: Snapshot) => [...s].map(([folder, tuples]) => [folder, tuples.map((t) => t.uid)]);
      expect(uids(served)).toEqual(uids(await snapshotBackup(dir('big-maildir'))));
    } finally {
      await second.stop();
    }
  }, 240_000);

  it('backs up the same account to mbox: every message reads back byte for byte, flags in Status/X-Status/X-Keywords', async () => {
    const { summary } = await backup('big', 'big-mbox', ['--format', 'mbox']);
    expect(summary.totals).toMatchObject({ copied: 2000, failed: 0 });
    expectSame(big, await snapshotMboxFiles(dir('big-mbox')));
    expectSame(big, await snapshotBackup(dir('big-mbox')));
  }, 120_000);
});

describe('nightly reruns', () => {
  const formats = [['maildir', 'inc-maildir'], ['mbox', 'inc-mbox']] as const;

  it('a rerun without changes copies nothing and rewrites no folder', async () => {
    for (const [format, to] of formats) {
      expect((await backup('inc', to, ['--format', format])).summary.totals.copied).toBe(150);
      const before = await fingerprint(dir(to));
      const again = await backup('inc', to);
      expect(again.summary.totals).toMatchObject({ copied: 0, flagsUpdated: 0 });
      // Only the manifest (its timestamp) and the checkpoint move; no mail file, UID list or index does.
      const changed = (await fingerprint(dir(to))).filter((line) => !before.includes(line)).map((l) => l.split(' ')[0]);
      expect(changed.filter((p) => !/^(|manifest\.json|\.mailferry|\.mailferry\/state\.sqlite.*)$/.test(p!))).toEqual([]);
    }
  });

  it('after 10 new messages and flag changes on the server, writes exactly those 10 and updates the flags', async () => {
    await withClient('inc', async (c) => {
      for (let i = 0; i < 10; i++) {
        const folder = ['INBOX', 'Sent', 'Work'][i % 3]!;
        await c.append(folder, Buffer.from(`From: n${i}@example.org\r\nSubject: new ${i}\r\nMessage-ID: <new${i}@x>\r\n\r\nFrom the new mail ${i}\r\n`), i % 2 ? ['\\Seen'] : [], new Date(Date.UTC(2025, 5, i + 1)));
      }
      // Keywords no corpus message has, so each line is a change whatever the random flags were.
      await c.mailboxOpen('INBOX');
      await c.messageFlagsAdd('1:2', ['\\Flagged', 'Reviewed'], { uid: true });
      await c.messageFlagsAdd('3', ['Urgent'], { uid: true });
      await c.messageFlagsRemove('3', ['\\Seen'], { uid: true });
      await c.mailboxOpen('Work');
      await c.messageFlagsSet('1', ['\\Answered', 'Audited'], { uid: true });
    });
    const expected = await snapshotAccount(addr('inc'));
    for (const [, to] of formats) {
      const files = await walk(dir(to));
      const rerun = await backup('inc', to);
      expect(rerun.summary.totals).toMatchObject({ copied: 10, flagsUpdated: 4, failed: 0 });
      expectSame(expected, await snapshotBackup(dir(to)));
      const grown = (await walk(dir(to))).filter((e) => e.type === 'file').length - files.filter((e) => e.type === 'file').length;
      if (to === 'inc-maildir') expect(grown).toBe(10);
    }
    expectSame(expected, await snapshotMboxFiles(dir('inc-mbox')));
  });

  it('keeps messages deleted on the server; --mirror removes them from the backup, never from the server', async () => {
    await withClient('inc', async (c) => {
      await c.mailboxOpen('INBOX');
      await c.messageDelete('1:3', { uid: true });
    });
    const expected = await snapshotAccount(addr('inc'));
    for (const [, to] of formats) {
      await backup('inc', to);
      expect(diffSnapshots(expected, await snapshotBackup(dir(to)))).toMatchObject({ extra: 3, missing: 0 });
      const mirrored = await backup('inc', to, ['--mirror']);
      expect(mirrored.summary.folders.find((f: { source: string }) => f.source === 'INBOX')).toMatchObject({ removed: 3 });
      expectSame(expected, await snapshotBackup(dir(to)));
    }
    expectSame(expected, await snapshotAccount(addr('inc')));
    expect(splitMbox(await fs.readFile(path.join(dir('inc-mbox'), 'mbox', 'INBOX.mbox'))).length).toBe(expected.get('INBOX')!.length);
  });

  it('a changed UIDVALIDITY on the server neither duplicates nor loses a backed-up message', async () => {
    for (const format of ['maildir', 'mbox']) await backup('uv', `uv-${format}`, ['--format', format]);
    const before = await snapshotAccount(addr('uv'));
    await withClient('uv', async (c) => {
      await c.mailboxOpen('INBOX');
      await c.messageDelete('1', { uid: true });
    });
    await server.doveadm(['mailbox', 'update', '-u', 'uv', '--uid-validity', '4242', 'INBOX']);
    for (const format of ['maildir', 'mbox']) {
      const rerun = await backup('uv', `uv-${format}`);
      expect(rerun.stderr).toMatch(/UIDVALIDITY changed/);
      expect(rerun.summary.totals.copied).toBe(0);
      // The message deleted on the server stays: the backup equals the account as it was.
      expectSame(before, await snapshotBackup(dir(`uv-${format}`)));
    }
  });
});

describe('--archive', () => {
  async function extractAndCompare(archive: string, kind: 'tar.gz' | 'zip', backupDir: string): Promise<void> {
    const out = mkdtempSync(path.join(work, 'x-'));
    if (kind === 'zip') await run('unzip', ['-q', archive, '-d', out]);
    else await run('tar', ['-xzf', archive, '-C', out]);
    const extracted = path.join(out, path.basename(backupDir));
    const rel = async (root: string) =>
      Promise.all((await walk(root)).map(async (e) => `${path.relative(root, e.path)} ${e.type} ${e.type === 'file' ? (await fs.readFile(e.path)).toString('base64') : ''}`));
    expect((await rel(extracted)).sort()).toEqual((await rel(backupDir)).sort());
    if (kind === 'tar.gz') {
      // Maildir keeps INTERNALDATE in the file's mtime: the tar must carry it.
      // (Only message files: bookkeeping files are rewritten by the run and their times mean nothing.)
      const mtimes = async (root: string) => (await walk(root)).filter((e) => e.type === 'file' && /\/(cur|new)\//.test(e.path)).map((e) => e.path.slice(root.length)).sort();
      for (const p of (await mtimes(backupDir)).slice(0, 50)) {
        expect(Math.floor((await fs.stat(extracted + p)).mtimeMs / 1000)).toBe(Math.floor((await fs.stat(backupDir + p)).mtimeMs / 1000));
      }
    }
  }

  it.each([
    ['tar.gz', 'inc-maildir'],
    ['zip', 'inc-mbox'],
  ] as const)('packs the whole backup into a .%s that reads back and extracts to the same tree; --keep prunes older ones', async (kind, to) => {
    const archives = path.join(work, `archives-${kind}`);
    await fs.mkdir(archives);
    for (const [date, age] of [['2020-01-01', 3], ['2020-01-02', 2], ['2020-01-03', 1]] as const) {
      const old = path.join(archives, `mail-${date}.${kind}`);
      await fs.writeFile(old, 'old');
      const t = new Date(Date.now() - age * 86_400_000);
      await fs.utimes(old, t, t);
    }
    await fs.writeFile(path.join(archives, 'unrelated.txt'), 'keep me');
    const result = await backup('inc', to, ['--archive', path.join(archives, `mail-{date}.${kind}`), '--keep', '2']);
    const archive = result.summary.archive as string;
    expect(path.basename(archive)).toMatch(new RegExp(`^mail-\\d{4}-\\d{2}-\\d{2}\\.${kind.replace('.', '\\.')}$`));
    expect((await fs.readdir(archives)).sort()).toEqual([path.basename(archive), `mail-2020-01-03.${kind}`, 'unrelated.txt'].sort());
    expect((await fs.stat(archive)).mode & 0o777).toBe(0o600);
    await extractAndCompare(archive, kind, dir(to));
  });
});

describe('safety', () => {
  it('--dry-run writes nothing, neither for a new backup nor into an existing one', async () => {
    const fresh = await runCli([...backupArgs('inc', 'never-created'), '--dry-run'], env);
    expect(fresh.code).toBe(0);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ dryRun: true });
    await expect(fs.stat(dir('never-created'))).rejects.toThrow();

    const before = await fingerprint(dir('inc-maildir'));
    await withClient('inc', (c) => c.append('INBOX', Buffer.from('Subject: unseen by dry run\r\n\r\nx\r\n')).then(() => undefined));
    const dry = await runCli([...backupArgs('inc', 'inc-maildir'), '--dry-run', '--archive', path.join(work, 'dry-{date}.tar.gz')], env);
    expect(dry.code).toBe(0);
    expect(await fingerprint(dir('inc-maildir'))).toEqual(before);
    expect((await fs.readdir(work)).filter((n) => n.startsWith('dry-'))).toEqual([]);
  });

  it('refuses, with exit 2 and one line, what would mix or damage data', async () => {
    await fs.mkdir(dir('not-a-backup'));
    await fs.writeFile(path.join(dir('not-a-backup'), 'notes.txt'), 'mine');
    const cases: Array<[string[], RegExp]> = [
      [backupArgs('inc', 'not-a-backup'), /not empty and holds no manifest\.json/],
      [backupArgs('inc', 'inc-maildir', ['--format', 'mbox']), /holds a maildir backup/],
      [backupArgs('big', 'inc-maildir'), /is a backup of imap:\/\/inc@/],
      [backupArgs('inc', 'new-mbox', ['--format', 'mbox', '--layout', 'fs']), /--layout applies to --format maildir/],
      [backupArgs('inc', 'new-one', ['--keep', '3']), /--keep needs --archive/],
      [backupArgs('inc', 'new-one', ['--archive', path.join(dir('new-one'), 'a-{date}.tar.gz')]), /outside the backup directory/],
      [backupArgs('inc', 'new-one', ['--archive', path.join(work, 'a.rar')]), /must end in \.tar\.gz, \.tgz or \.zip/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await fs.readdir(dir('not-a-backup'))).toEqual(['notes.txt']);
  });
});

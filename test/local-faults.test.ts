import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { backupManifest, snapshotBackup, snapshotMboxFiles, walk } from './support/backup-snapshot.js';
import { runCli, startCli, type CliRun } from './support/cli.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';

/**
 * Faults of the local disk and of mailferry's own files (issue 11, "Disk and local state"): a full
 * disk, damaged or foreign state files, damaged backups, a read-only directory, two runs at once.
 * Disk-full and read-only cases mount a tmpfs or a read-only bind mount, so they need root.
 */

const run = promisify(execFile);
const PASSWORD = 'pw-Local-7';
const ROOT = process.getuid?.() === 0;
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-local-faults-'));
const at = (name: string): string => path.join(work, name);
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string): string => `imap://${user}@${server.host}:${server.port}`;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
const mounts: string[] = [];
let source: Snapshot;

function backupArgs(to: string, extra: string[] = [], user = 'acct'): string[] {
  return ['backup', '--from', url(user), '--from-ca', server.caFile, '--to', to, '--json', ...extra];
}

function restoreArgs(from: string, user: string, extra: string[] = []): string[] {
  return ['restore', '--from', from, '--to', url(user), '--to-ca', server.caFile, '--json', ...extra];
}

async function cli(args: string[], expected: number): Promise<CliRun> {
  const result = await runCli(args, env);
  expect(result.code, result.stderr).toBe(expected);
  return result;
}

/** A refusal as the rules want it: one line on stderr, no stack trace. */
function expectOneLine(result: CliRun, message: RegExp): void {
  const lines = result.stderr.trim().split('\n').filter((l) => /error/.test(l));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
}

function expectSame(expected: Snapshot, actual: Snapshot): void {
  expect(diffSnapshots(expected, actual).details).toEqual([]);
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

/** Names, sizes and contents of everything under `root`: what "left untouched" compares. */
async function fingerprint(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await walk(root)) out.push(`${path.relative(root, e.path)} ${e.type === 'file' ? await sha256File(e.path) : e.type}`);
  return out.sort();
}

async function mountTmpfs(dir: string, size: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  mounts.push(dir);
}

/** Fills the file system holding `dir` up to `leave` bytes free. */
async function fill(dir: string, leave: number): Promise<string> {
  const filler = path.join(dir, 'filler');
  const st = await fs.statfs(dir);
  await fs.writeFile(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - leave), 1));
  return filler;
}

/** Every message file in `cur/` and `new/` of a Maildir backup has the size its name records, and `tmp/` is empty. */
async function expectNoPartialMaildirFile(dir: string): Promise<void> {
  const manifest = await backupManifest(dir);
  for (const folder of manifest.folders()) {
    const folderDir = path.join(dir, folder.path);
    expect(await fs.readdir(path.join(folderDir, 'tmp'))).toEqual([]);
    for (const sub of ['cur', 'new']) {
      for (const name of await fs.readdir(path.join(folderDir, sub))) {
        expect((await fs.stat(path.join(folderDir, sub, name))).size, name).toBe(Number(/,S=(\d+)/.exec(name)![1]));
      }
    }
  }
}

/** A message file of the backup's INBOX, by position in name order. */
async function inboxFile(dir: string, index: number): Promise<string> {
  const cur = path.join(dir, 'Maildir', 'cur');
  return path.join(cur, (await fs.readdir(cur)).sort()[index]!);
}

beforeAll(async () => {
  server = await startDovecot({ users: ['acct', 'grow', 'rst1', 'rst2', 'rst3', 'mig1'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 71, messages: 60, folders: 4, maxSize: 300_000 };
  await seedAccount(addr('acct'), generateCorpus(opts), { folders: corpusFolders(opts) });
  await seedAccount(addr('grow'), generateCorpus({ ...opts, seed: 72, messages: 30 }), { folders: corpusFolders(opts) });
  source = await snapshotAccount(addr('acct'));
}, 300_000);

afterAll(async () => {
  for (const dir of mounts.reverse()) await run('umount', ['-l', dir]).catch(() => undefined);
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('a damaged backup is noticed and repaired by the next backup, and refused by restore', () => {
  it('Maildir: a message file cut short and one deleted are copied again; restore of the damaged copy reports the cut one', async () => {
    const dir = at('damaged-maildir');
    await cli(backupArgs(dir), 0);
    const cut = await inboxFile(dir, 0);
    const deleted = await inboxFile(dir, 1);
    await fs.truncate(cut, 100);
    await fs.rm(deleted);
    await fs.cp(dir, at('damaged-maildir-copy'), { recursive: true });

    const rerun = await cli(backupArgs(dir), 0);
    expect(JSON.parse(rerun.stdout).totals).toMatchObject({ copied: 2, failed: 0 });
    expect(rerun.stderr).toMatch(/2 message\(s\) missing or damaged on disk; copying them again/);
    expectSame(source, await snapshotBackup(dir));
    await expectNoPartialMaildirFile(dir);
    // The cut copy is kept aside, not deleted, where no Maildir reader looks.
    expect(await fs.readdir(path.join(dir, 'Maildir'))).toContain(`${path.basename(cut)}.damaged`);
    expect(JSON.parse((await cli(backupArgs(dir), 0)).stdout).totals).toMatchObject({ copied: 0 });

    const restored = await cli(restoreArgs(at('damaged-maildir-copy'), 'rst1'), 1);
    const failures = JSON.parse(restored.stdout).folders.flatMap((f: { failures: Array<{ reason: string; message: string }> }) => f.failures);
    expect(failures).toEqual([expect.objectContaining({ reason: 'damaged-source', message: expect.stringMatching(/is 100 bytes; the message had \d+/) })]);
    // Neither the cut message nor the deleted one reached the account, nothing else is missing.
    expect(diffSnapshots(source, await snapshotAccount(addr('rst1')))).toMatchObject({ missing: 2, extra: 0 });
  });

  it('mbox: a file cut inside its last message is repaired by the next backup; a reader sees no partial message', async () => {
    const dir = at('damaged-mbox');
    await cli(backupArgs(dir, ['--format', 'mbox']), 0);
    const inbox = path.join(dir, 'mbox', 'INBOX.mbox');
    await fs.truncate(inbox, (await fs.stat(inbox)).size - 50);

    const rerun = await cli(backupArgs(dir), 0);
    expect(JSON.parse(rerun.stdout).totals).toMatchObject({ copied: 1, failed: 0 });
    expectSame(source, await snapshotBackup(dir));
    expectSame(source, await snapshotMboxFiles(dir));
  });

  it('a foreign mbox cut inside its last message: restore copies the others and reports that one', async () => {
    const file = at('foreign.mbox');
    const message = (n: number): string => `From someone@example.org Tue Mar  5 06:07:0${n} 2024\nSubject: foreign ${n}\nMessage-ID: <f${n}@x>\n\n${'body line\n'.repeat(20)}\n`;
    const whole = message(1) + message(2) + message(3);
    await fs.writeFile(file, whole.slice(0, whole.length - 25));
    const restored = await cli(restoreArgs(file, 'rst2', ['--into', 'Foreign']), 1);
    const summary = JSON.parse(restored.stdout);
    expect(summary.totals).toMatchObject({ copied: 2, failed: 1 });
    expect(summary.folders[0].failures).toEqual([expect.objectContaining({ uid: 3, reason: 'damaged-source', message: expect.stringMatching(/ends inside a line of its last message/) })]);
  });
});

describe('damaged, foreign or read-only local state: one line, a documented exit code, files untouched', () => {
  let dir: string;
  let checkpoint: string;

  beforeAll(async () => {
    dir = at('state');
    await cli(backupArgs(dir), 0);
    checkpoint = path.join(dir, '.mailferry', 'state.sqlite');
  });

  it('a checkpoint that is garbage or cut short: exit 7, saying to move it aside; moved aside, the rerun matches by content', async () => {
    const good = await fs.readFile(checkpoint);
    await fs.writeFile(checkpoint, Buffer.alloc(good.length, 'garbage! '));
    const before = await fingerprint(dir);
    expectOneLine(await cli(backupArgs(dir), 7), /checkpoint .*state\.sqlite is damaged .*move it aside and rerun/);
    expect(await fingerprint(dir)).toEqual(before);

    await fs.writeFile(checkpoint, good.subarray(0, good.length >> 1));
    expectOneLine(await cli(backupArgs(dir), 7), /checkpoint .*state\.sqlite is damaged \(database disk image is malformed\); move it aside and rerun/);

    await fs.rename(checkpoint, `${checkpoint}.damaged`);
    // What a run killed while writing the manifest (disk full, kill -9) leaves: the next run removes it.
    const leftover = path.join(dir, 'manifest.json.tmp-4194305');
    await fs.writeFile(leftover, '');
    const rerun = JSON.parse((await cli(backupArgs(dir), 0)).stdout);
    expect(rerun.totals).toMatchObject({ copied: 0, present: 60 });
    await expect(fs.stat(leftover)).rejects.toThrow(/ENOENT/);
    expectSame(source, await snapshotBackup(dir));
  });

  it('a checkpoint of another account pair given with --state: exit 2, naming whose it is', async () => {
    const state = at('pair.sqlite');
    await cli(['migrate', '--from', url('grow'), '--from-ca', server.caFile, '--to', url('mig1'), '--to-ca', server.caFile, '--state', state], 0);
    const before = await sha256File(state);
    const other = await cli(['migrate', '--from', url('acct'), '--from-ca', server.caFile, '--to', url('mig1'), '--to-ca', server.caFile, '--state', state], 2);
    expectOneLine(other, /checkpoint .*pair\.sqlite belongs to imap:\/\/grow@.* -> imap:\/\/mig1@.*, not imap:\/\/acct@/);
    expect(await sha256File(state)).toBe(before);
  });

  it('a manifest.json edited to garbage: backup and restore exit 7, saying to put back a copy; nothing written', async () => {
    const manifest = path.join(dir, 'manifest.json');
    const good = await fs.readFile(manifest);
    await fs.writeFile(manifest, '{"formatVersion": 1, "folders": [garbage');
    try {
      const before = await fingerprint(dir);
      expectOneLine(await cli(backupArgs(dir), 7), /manifest\.json is damaged \(not valid JSON\); put back a copy/);
      expectOneLine(await cli(restoreArgs(dir, 'rst3'), 7), /manifest\.json is damaged/);
      expect(await fingerprint(dir)).toEqual(before);
    } finally {
      await fs.writeFile(manifest, good);
    }
  });

  it.skipIf(!ROOT)('a backup directory or a --state on a read-only mount: exit 7, saying so, for an existing backup and new ones below it', async () => {
    const readOnly = at('read-only');
    await fs.mkdir(readOnly);
    await run('mount', ['--bind', dir, readOnly]);
    mounts.push(readOnly);
    await run('mount', ['-o', 'remount,bind,ro', readOnly]);
    const before = await fingerprint(dir);
    expectOneLine(await cli(backupArgs(readOnly), 7), /read-only/);
    expectOneLine(await cli(backupArgs(path.join(readOnly, 'new', 'deeper')), 7), /read-only/);
    const migrate = ['migrate', '--from', url('grow'), '--from-ca', server.caFile, '--to', url('mig1'), '--to-ca', server.caFile];
    expectOneLine(await cli([...migrate, '--state', path.join(readOnly, 'new', 'state.sqlite')], 7), /checkpoint .*new\/state\.sqlite cannot be written .*read-only/);
    expect(await fingerprint(dir)).toEqual(before);
  });
});

describe.skipIf(!ROOT)('a full disk during backup: exit 5 naming the path, nothing partial where a reader looks, a rerun after freeing space completes', () => {
  it.each([
    ['maildir', 'a message file'],
    ['mbox', 'an mbox append'],
  ])('%s: in the middle of %s', async (format) => {
    // The folders are made by a run that copies nothing; then only the mail root (Maildir/ or
    // mbox/) moves onto a small tmpfs, so the disk fills up inside a message, not the checkpoint.
    const to = at(`full-${format}`);
    await cli(backupArgs(to, ['--format', format, '--since', '2999-01-01']), 0);
    const mailRoot = path.join(to, format === 'maildir' ? 'Maildir' : 'mbox');
    const small = at(`full-${format}-tmpfs`);
    await mountTmpfs(small, '8m');
    await run('cp', ['-a', `${mailRoot}/.`, small]);
    await fs.rm(mailRoot, { recursive: true });
    await fs.mkdir(mailRoot, { mode: 0o700 });
    await run('mount', ['--bind', small, mailRoot]);
    mounts.push(mailRoot);
    const filler = await fill(small, 500_000);

    const full = await cli(backupArgs(to), 5);
    expectOneLine(full, new RegExp(`writing to ${mailRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*: no space left on the disk; free space and rerun`));
    if (format === 'maildir') await expectNoPartialMaildirFile(to);
    // What a mail reader sees of the mbox files is what the index holds: no message cut off.
    else expectSame(await snapshotBackup(to), await snapshotMboxFiles(to));
    expect((await fs.readdir(to)).filter((n) => n.includes('.tmp-'))).toEqual([]);

    await fs.rm(filler);
    await cli(backupArgs(to), 0);
    expectSame(source, await snapshotBackup(to));
    if (format === 'mbox') expectSame(source, await snapshotMboxFiles(to));
  });

  it('in the middle of the checkpoint commit', async () => {
    const NEW_MESSAGES = 100;
    const dir = at('full-checkpoint');
    await cli(backupArgs(dir, [], 'grow'), 0);
    const growing = await snapshotAccount(addr('grow'));
    const c = await connectPlain(addr('grow'));
    try {
      for (let i = 0; i < NEW_MESSAGES; i++) await c.append('INBOX', Buffer.from(`Subject: new ${i}\r\nMessage-ID: <new${i}@local>\r\n\r\n${'x'.repeat(2000)}\r\n`));
    } finally {
      await c.logout();
    }
    const state = path.join(dir, '.mailferry');
    const kept = await fs.readFile(path.join(state, 'state.sqlite'));
    await mountTmpfs(state, '1m');
    await fs.writeFile(path.join(state, 'state.sqlite'), kept, { mode: 0o600 });
    // Room to open the checkpoint (its WAL and shared-memory index), not to journal the new messages.
    const filler = await fill(state, 48 * 1024);

    const full = await cli(backupArgs(dir, [], 'grow'), 5);
    expectOneLine(full, /checkpoint .*state\.sqlite: no space left on the disk; free space and rerun/);
    await expectNoPartialMaildirFile(dir);

    await fs.rm(filler);
    await cli(backupArgs(dir, [], 'grow'), 0);
    const expected = await snapshotAccount(addr('grow'));
    expect([...expected.values()].flat().length).toBe([...growing.values()].flat().length + NEW_MESSAGES);
    // Equal by the oracle: every message once, none twice.
    expectSame(expected, await snapshotBackup(dir));
  });

  it('in the middle of an archive: the backup is complete, no partial archive is left, a rerun with room writes it', async () => {
    const dir = at('full-archive');
    const out = at('archives');
    await mountTmpfs(out, '200k');
    const pattern = path.join(out, 'mail-{date}.tar.gz');
    const full = await cli(backupArgs(dir, ['--archive', pattern]), 5);
    expectOneLine(full, /writing .*archives\/mail-.*\.tar\.gz: no space left on the disk; the backup itself is complete/);
    expect(await fs.readdir(out)).toEqual([]);
    expectSame(source, await snapshotBackup(dir));

    await run('mount', ['-o', 'remount,size=64m', out]);
    const rerun = JSON.parse((await cli(backupArgs(dir, ['--archive', pattern]), 0)).stdout);
    expect(rerun.archive).toMatch(/mail-.*\.tar\.gz$/);
    expect(await fs.readdir(out)).toEqual([path.basename(rerun.archive)]);
  });
});

describe('two runs at once on one backup directory or one checkpoint', () => {
  it('the second refuses at once with a clear line; the first is unharmed; a killed run does not block the next', async () => {
    const dir = at('twice');
    // Held to 200 KB/s, the first run takes seconds: the second starts once the first holds the checkpoint.
    const slow = ['--max-bytes-per-second', '200000'];
    const first = startCli(backupArgs(dir, slow), env);
    const state = path.join(dir, '.mailferry', 'state.sqlite');
    for (let i = 0; i < 400 && !(await fs.stat(state).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 25));
    const second = await runCli(backupArgs(dir), env);
    const firstDone = await first.done;
    expect(firstDone.code, firstDone.stderr).toBe(0);
    expect(second.code).toBe(2);
    expectOneLine(second, /checkpoint .*state\.sqlite is in use by (process \d+ on .* since|another run)/);
    expectSame(source, await snapshotBackup(dir));

    // kill -9 while it holds the lock: the next run takes the lock over.
    const killed = startCli(backupArgs(at('killed'), slow), env);
    const killedState = path.join(at('killed'), '.mailferry', 'state.sqlite');
    for (let i = 0; i < 400 && !(await fs.stat(killedState).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 25));
    killed.child.kill('SIGKILL');
    await killed.done;
    await cli(backupArgs(at('killed')), 0);
    expectSame(source, await snapshotBackup(at('killed')));
  });

  it('a run waits for a lock someone else holds on its checkpoint for a moment (a reader of the file), instead of failing', async () => {
    const dir = at('peeked');
    await cli(backupArgs(dir), 0);
    // A writer's lock held for a second, as a sqlite3 shell or a WAL checkpoint holds it briefly.
    const peek = new Database(path.join(dir, '.mailferry', 'state.sqlite'));
    peek.exec('BEGIN EXCLUSIVE');
    const rerun = startCli(backupArgs(dir), env);
    await new Promise((r) => setTimeout(r, 1000));
    peek.exec('COMMIT');
    peek.close();
    const done = await rerun.done;
    expect(done.code, done.stderr).toBe(0);
    expectSame(source, await snapshotBackup(dir));
  });
});

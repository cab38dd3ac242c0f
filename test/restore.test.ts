import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { extractBackup } from '../src/archive/extract-backup.js';
import { walk } from './support/backup-snapshot.js';
import { runCli, startCli, type CliRun } from './support/cli.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';

const exec = promisify(execFile);
const PASSWORD = 'pw-Restore-4';
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-restore-'));
const at = (name: string): string => path.join(work, name);
// Checkpoints under the test's own directory, never the user's ~/.local/state.
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: at('state') };
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
/** Empty accounts made with the server (added later, each costs a second of Dovecot's auth cache). */
const ACCOUNTS = Array.from({ length: 20 }, (_, i) => `r${i + 1}`);
let used = 0;

/** A new, empty account (INBOX and the special-use folders only). */
async function freshAccount(): Promise<string> {
  const name = ACCOUNTS[used++];
  if (!name) throw new Error('more fresh accounts needed: raise ACCOUNTS');
  return name;
}

async function cli(args: string[], code = 0): Promise<CliRun & { summary: any }> {
  const run = await runCli(args, env);
  expect(run.code, run.stderr).toBe(code);
  return { ...run, summary: code === 0 && args.includes('--json') ? JSON.parse(run.stdout) : undefined };
}

const restoreArgs = (from: string, user: string, extra: string[] = []): string[] => [
  'restore', '--from', from, '--to', url(user), '--to-ca', server.caFile, '--json', ...extra,
];

function expectSame(expected: Snapshot, actual: Snapshot, opts: Parameters<typeof diffSnapshots>[2] = {}): void {
  const diff = diffSnapshots(expected, actual, opts);
  expect(diff.details).toEqual([]);
  expect(diff.equal).toBe(true);
}

/** The folders of `s` under `prefix`, keyed without it. */
function under(s: Snapshot, prefix: string): Snapshot {
  return new Map([...s].filter(([k]) => k.startsWith(`${prefix}/`)).map(([k, v]) => [k.slice(prefix.length + 1), v]));
}

function only(s: Snapshot, keep: (folder: string) => boolean): Snapshot {
  return new Map([...s].filter(([k]) => keep(k)));
}

let source: Snapshot;
const archives: Record<string, string> = {};

beforeAll(async () => {
  server = await startDovecot({ users: ['src', ...ACCOUNTS].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 44, messages: 400, folders: 18 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  source = await snapshotAccount(addr('src'));
  const backup = (to: string, extra: string[]) =>
    cli(['backup', '--from', url('src'), '--from-ca', server.caFile, '--to', at(to), '--json', ...extra]);
  // A Maildir and an mbox backup, each archived as .tar.gz and as .zip.
  for (const format of ['maildir', 'mbox']) {
    for (const kind of ['tar.gz', 'zip']) {
      const { summary } = await backup(`backup-${format}`, ['--format', format, '--archive', at(`${format}-{date}.${kind}`)]);
      archives[`${format}.${kind}`] = summary.archive;
    }
  }
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('mailferry restore from a backup directory', () => {
  it('--folder Work --recursive --into Restored restores that tree under Restored, and verify of those folders against the source exits 0', async () => {
    const user = await freshAccount();
    const { summary } = await cli(restoreArgs(at('backup-maildir'), user, ['--folder', 'Work', '--recursive', '--into', 'Restored']));
    const work = ['Work', 'Work/Projects', 'Work/Projects/2024'];
    expect(summary.folders.map((f: { destination: string }) => f.destination).sort()).toEqual(work.map((w) => `Restored/${w}`));
    expect(summary.totals).toMatchObject({ failed: 0, copied: work.reduce((n, w) => n + source.get(w)!.length, 0) });

    const restored = await snapshotAccount(addr(user));
    expectSame(only(source, (f) => work.includes(f)), under(restored, 'Restored'));
    // Nothing else was touched: the account's own folders are still empty.
    expect([...restored].filter(([k, v]) => !k.startsWith('Restored/') && v.length > 0)).toEqual([]);

    const maps = work.flatMap((w) => ['--folder', w, '--map', `${w}=Restored/${w}`]);
    const verify = await cli(['verify', '--from', url('src'), '--from-ca', server.caFile, '--to', url(user), '--to-ca', server.caFile, ...maps]);
    expect(verify.stdout).toMatch(/EQUAL; 3 folders/);
    // The backup itself can be one side of verify, with the same folder selection.
    await cli(['verify', '--from', at('backup-maildir'), '--to', url(user), '--to-ca', server.caFile, ...maps]);

    const again = await cli(restoreArgs(at('backup-maildir'), user, ['--folder', 'Work', '--recursive', '--into', 'Restored']));
    expect(again.summary.totals).toMatchObject({ copied: 0, failed: 0 });
  });

  it('a whole mbox backup: every message byte-exact (SHA-256), special-use folders into the destination\'s own, and --verify agrees', async () => {
    const user = await freshAccount();
    const { summary } = await cli(restoreArgs(at('backup-mbox'), user, ['--verify']));
    expect(summary.totals).toMatchObject({ failed: 0, copied: [...source.values()].reduce((n, t) => n + t.length, 0) });
    expect(summary.verify).toMatchObject({ equal: true });
    expect(summary.folders.find((f: { source: string }) => f.source === 'mbox/Sent.mbox')).toMatchObject({ destination: 'Sent' });
    expectSame(source, await snapshotAccount(addr(user)));
  });

  it("into a server with another hierarchy delimiter and other names for its special-use folders: each goes to the folder of its use", async () => {
    const other = await startDovecot({ users: [{ name: 'elsewhere', password: PASSWORD }], layout: 'maildir++', specialUseNames: { Sent: 'Sent Messages', Trash: 'Deleted Items' } });
    try {
      const run = await cli(['restore', '--from', at('backup-maildir'), '--to', `imap://elsewhere@${other.host}:${other.port}`, '--to-ca', other.caFile, '--json']);
      expect(run.summary.folders.find((f: { source: string }) => f.source === 'Maildir/.Sent')).toMatchObject({ destination: 'Sent Messages' });
      expect(run.summary.folders.find((f: { source: string }) => f.source === 'Maildir/.Work.Projects')).toMatchObject({ destination: 'Work.Projects' });
      const renamed: Record<string, string> = { Sent: 'Sent Messages', Trash: 'Deleted Items' };
      const restored = await snapshotAccount({ host: other.host, port: other.port, user: 'elsewhere', password: PASSWORD });
      expectSame(source, restored, { folderMap: (f) => renamed[f] ?? f });
    } finally {
      await other.stop();
    }
  });

  it('into folders that already hold some of the messages, adds only the missing ones', async () => {
    const user = await freshAccount();
    const inbox = await connectPlain(addr('src'));
    const dst = await connectPlain(addr(user));
    try {
      await inbox.mailboxOpen('INBOX', { readOnly: true });
      for (const m of (await inbox.fetchAll('1:20', { source: true, flags: true, internalDate: true })).filter((_, i) => i % 2 === 0)) {
        await dst.append('INBOX', m.source!, [...m.flags!].filter((f) => f !== '\\Recent'), m.internalDate as Date);
      }
    } finally {
      await inbox.logout();
      await dst.logout();
    }
    const { summary } = await cli(restoreArgs(at('backup-maildir'), user, ['--folder', 'INBOX']));
    expect(summary.folders[0]).toMatchObject({ present: 10, copied: source.get('INBOX')!.length - 10, failed: 0 });
    expectSame(only(source, (f) => f === 'INBOX'), only(await snapshotAccount(addr(user)), (f) => f === 'INBOX'));
  });

  it('--dry-run lists the mapping and counts and writes nothing', async () => {
    const user = await freshAccount();
    const before = await snapshotAccount(addr(user));
    const { summary } = await cli(restoreArgs(at('backup-maildir'), user, ['--dry-run', '--folder', 'Work', '--recursive', '--into', 'Restored/2026-11-25']));
    expect(summary).toMatchObject({ dryRun: true });
    expect(summary.folders.find((f: { destination: string }) => f.destination === 'Restored/2026-11-25/Work/Projects')).toMatchObject({ found: source.get('Work/Projects')!.length });
    expect(await snapshotAccount(addr(user))).toEqual(before);
  });
});

describe('restore from an archive', () => {
  const fromDirectory = new Map<string, Promise<Snapshot>>();
  /** A whole restore from the backup directory, once per format: what an archive must equal. */
  function directoryRestore(format: string): Promise<Snapshot> {
    if (!fromDirectory.has(format)) {
      fromDirectory.set(format, (async () => {
        const user = await freshAccount();
        await cli(restoreArgs(at(`backup-${format}`), user));
        return snapshotAccount(addr(user));
      })());
    }
    return fromDirectory.get(format)!;
  }

  it.each([
    ['maildir', 'tar.gz'],
    ['mbox', 'tar.gz'],
    ['mbox', 'zip'],
  ])('a %s backup in a .%s restores exactly as the directory does', async (format, kind) => {
    const user = await freshAccount();
    const archive = archives[`${format}.${kind}`]!;
    const { child, done } = startCli(restoreArgs(archive, user), env);
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).source).toBe(`${kind}:${archive}`);
    const restored = await snapshotAccount(addr(user));
    expectSame(await directoryRestore(format), restored);
    expectSame(source, restored);
    // Extracted into a private directory that is gone once the run ends.
    expect((await fs.readdir(tmpdir())).filter((n) => n.startsWith(`mailferry-archive-${child.pid}-`))).toEqual([]);
  });

  it('a Maildir backup in a .zip: the same messages and flags; INTERNALDATE as ZIP keeps it, to 2 seconds', async () => {
    const user = await freshAccount();
    await cli(restoreArgs(archives['maildir.zip']!, user));
    const restored = await snapshotAccount(addr(user));
    const expected = await directoryRestore('maildir');
    expect(diffSnapshots(expected, restored)).toMatchObject({ missing: 0, extra: 0, flagMismatch: 0 });
    for (const [folder, tuples] of expected) {
      const evenSeconds = (ts: typeof tuples) => ts.map((t) => `${t.sha256} ${Math.floor(t.internalDate / 2) * 2}`).sort();
      expect(evenSeconds(restored.get(folder)!), folder).toEqual(evenSeconds(tuples));
    }
  });

  it('extracts only the folders a run selects: the manifest and their own files', async () => {
    const extracted = await extractBackup(archives['maildir.tar.gz']!, 'tar.gz', (folders) => folders.filter((f) => f.components.join('/') === 'Work/Projects'));
    try {
      const root = extracted.manifest.root;
      const files = (await walk(root)).filter((e) => e.type === 'file').map((e) => path.relative(root, e.path));
      expect(files.filter((f) => !f.startsWith('Maildir/.Work.Projects/'))).toEqual(['manifest.json']);
      expect(files.filter((f) => /\/(cur|new)\//.test(f))).toHaveLength(source.get('Work/Projects')!.length);
      expect((await fs.stat(root)).mode & 0o777).toBe(0o700);
    } finally {
      await extracted.remove();
    }
  });

  it('restores one folder of an archive; verify and folders read archives too', async () => {
    const user = await freshAccount();
    const { summary } = await cli(restoreArgs(archives['maildir.tar.gz']!, user, ['--folder', 'Sent']));
    expect(summary.folders).toHaveLength(1);
    expect(summary.folders[0]).toMatchObject({ destination: 'Sent', copied: source.get('Sent')!.length });
    await cli(['verify', '--from', archives['maildir.tar.gz']!, '--to', url(user), '--to-ca', server.caFile, '--folder', 'Sent', '--quick']);
    const listing = await cli(['folders', '--from', archives['mbox.zip']!, '--json']);
    const folders = JSON.parse(listing.stdout).folders as Array<{ name: string; specialUse?: string; messages: number }>;
    expect(folders.find((f) => f.name === 'mbox/Sent.mbox')).toMatchObject({ specialUse: '\\Sent', messages: source.get('Sent')!.length });
    expect(folders.reduce((n, f) => n + f.messages, 0)).toBe([...source.values()].reduce((n, t) => n + t.length, 0));
  });

  it('refuses an archive whose entries would land outside the extraction directory, and writes nothing', async () => {
    const evil = at('evil.tar.gz');
    const pack = tar.pack();
    const written = pipeline(pack, createGzip(), createWriteStream(evil));
    pack.entry({ name: 'b/manifest.json' }, JSON.stringify({ formatVersion: 1, source: 'x', format: 'mbox', layout: 'fs', updated: '', folders: [] }));
    pack.entry({ name: 'b/../../escaped' }, 'pwned');
    pack.finalize();
    await written;
    const user = await freshAccount();
    const run = await cli(restoreArgs(evil, user), 2);
    expect(run.stderr).toMatch(/unsafe entry name "b\/\.\.\/\.\.\/escaped"/);
    for (const escaped of ['/escaped', path.join(tmpdir(), 'escaped')]) await expect(fs.stat(escaped)).rejects.toThrow();
  });

  it('reads an archive made by hand, `tar -czf mail.tgz -C BACKUP .`, as well', async () => {
    await exec('tar', ['-czf', at('by-hand.tgz'), '-C', at('backup-mbox'), '.']);
    const listing = JSON.parse((await cli(['folders', '--from', at('by-hand.tgz'), '--json'])).stdout);
    expect(listing.folders.reduce((n: number, f: { messages: number }) => n + f.messages, 0)).toBe([...source.values()].reduce((n, t) => n + t.length, 0));
  });

  it('refuses a damaged archive, and an archive that holds no backup', async () => {
    const whole = await fs.readFile(archives['maildir.tar.gz']!);
    await fs.writeFile(at('cut.tar.gz'), whole.subarray(0, whole.length >> 1));
    await fs.writeFile(at('not.zip'), 'PK? no');
    const pack = tar.pack();
    const written = pipeline(pack, createGzip(), createWriteStream(at('nobackup.tar.gz')));
    pack.entry({ name: 'photos/cat.jpg' }, 'meow');
    pack.finalize();
    await written;
    expect((await cli(['folders', '--from', at('cut.tar.gz')], 2)).stderr).toMatch(/cut\.tar\.gz: not a readable \.tar\.gz/);
    expect((await cli(['folders', '--from', at('not.zip')], 2)).stderr).toMatch(/not\.zip: not a readable \.zip/);
    expect((await cli(['folders', '--from', at('nobackup.tar.gz')], 2)).stderr).toMatch(/is not an archive of a mailferry backup/);
  });
});

describe('usage errors exit 2 before anything is written', () => {
  it.each([
    [['--from', '/nonexistent/backup'], /--from \/nonexistent\/backup: no such file or directory/],
    [['--from', 'imap://me@example.org'], /restore reads a backup directory/],
    [['--recursive'], /--recursive needs --folder/],
    [['--into', 'A', '--map', 'INBOX=B'], /--into and --map exclude each other/],
    [['--folder', 'NoSuchFolder'], /--folder NoSuchFolder: no such folder at the source/],
  ])('%j', async (extra, message) => {
    const user = await freshAccount();
    const from = extra.includes('--from') ? [] : ['--from', at('backup-maildir')];
    const run = await cli(['restore', ...from, '--to', url(user), '--to-ca', server.caFile, ...extra], 2);
    expect(run.stderr).toMatch(message);
  });

  it('--to must be an account URL, and a side that is not mail is refused', async () => {
    const notMail = at('notes.txt');
    await fs.writeFile(notMail, 'hello\n');
    expect((await cli(['restore', '--from', at('backup-maildir'), '--to', at('elsewhere')], 2)).stderr).toMatch(/--to .*expected an imap:\/\/ or imaps:\/\/ account URL/);
    expect((await cli(['folders', '--from', notMail], 2)).stderr).toMatch(/not an mbox file/);
  });
});

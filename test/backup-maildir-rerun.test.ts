import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { backupManifest, snapshotBackup } from './support/backup-snapshot.js';
import { runCli } from './support/cli.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';

/**
 * Issue 17: a no-change rerun of a Maildir backup does per-folder work only, where it used to
 * read every folder's `cur/` and stat every message file; what the rerun checked before (a message
 * file deleted by hand, a folder changed at the source) it still catches. Its file-system work is
 * counted by a preloaded module (test/support/fs-calls.mjs), never timed.
 */

const PASSWORD = 'pw-Rerun-26';
const COUNTER = fileURLToPath(new URL('./support/fs-calls.mjs', import.meta.url));
const CORPUS = { seed: 2617, messages: 60, folders: 4, maxSize: 200_000 };
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-maildir-rerun-'));
const backupDir = path.join(work, 'backup');
const addr = () => ({ host: server.host, port: server.port, user: 'acct', password: PASSWORD });

interface Rerun {
  totals: { found: number; copied: number; failed: number };
  stderr: string;
  /** Stats, opens and reads of message files in `cur/` and `new/`. */
  messageFiles: string[];
  /** Listings of `cur/` and `new/`. */
  listings: string[];
}

async function backup(): Promise<Rerun> {
  const callsFile = path.join(work, `calls-${Date.now()}.txt`);
  const result = await runCli(['backup', '--from', `imap://acct@${server.host}:${server.port}`, '--to', backupDir, '--format', 'maildir', '--json'], {
    MAILFERRY_FROM_PASSWORD: PASSWORD,
    NODE_OPTIONS: `--import ${COUNTER}`,
    MAILFERRY_TEST_FS_CALLS: callsFile,
  });
  expect(result.code, result.stderr).toBe(0);
  const calls = (await fs.readFile(callsFile, 'utf8')).split('\n').filter(Boolean);
  return {
    totals: JSON.parse(result.stdout).totals,
    stderr: result.stderr,
    messageFiles: calls.filter((c) => /\/(cur|new)\/[^/]+$/.test(c)),
    listings: calls.filter((c) => /^(readdir|opendir)\S* .*\/(cur|new)$/.test(c)),
  };
}

function expectSame(expected: Snapshot, actual: Snapshot): void {
  expect(diffSnapshots(expected, actual).details).toEqual([]);
}

/** A folder of the backup other than INBOX, with its message files. */
async function someSubfolder(): Promise<{ cur: string; files: string[] }> {
  for (const folder of (await backupManifest(backupDir)).folders()) {
    if (folder.components.join('/') === 'INBOX') continue;
    const cur = path.join(backupDir, folder.path, 'cur');
    const files = await fs.readdir(cur);
    if (files.length > 0) return { cur, files };
  }
  throw new Error('no subfolder with messages');
}

beforeAll(async () => {
  server = await startDovecot({ users: [{ name: 'acct', password: PASSWORD }] });
  await seedAccount(addr(), generateCorpus(CORPUS), { folders: corpusFolders(CORPUS) });
  expect((await backup()).totals).toMatchObject({ found: 60, copied: 60, failed: 0 });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('a no-change rerun of a Maildir backup', () => {
  it('lists no cur/ or new/ and touches no message file, right after the run that wrote them', async () => {
    const rerun = await backup();
    expect(rerun.totals).toMatchObject({ found: 60, copied: 0, failed: 0 });
    expect(rerun.messageFiles).toEqual([]);
    expect(rerun.listings).toEqual([]);
    // What vouches for the folders is private, as every file of a backup is.
    expect((await fs.stat(path.join(backupDir, '.mailferry', 'maildir-seals.json'))).mode & 0o777).toBe(0o600);
  });

  it('still notices a message file deleted by hand from a folder unchanged at the source, and copies it again', async () => {
    const { cur, files } = await someSubfolder();
    await fs.rm(path.join(cur, files[0]!));

    const rerun = await backup();
    expect(rerun.totals).toMatchObject({ copied: 1, failed: 0 });
    expect(rerun.stderr).toMatch(/1 message\(s\) missing or damaged on disk; copying them again/);
    expectSame(await snapshotAccount(addr()), await snapshotBackup(backupDir));

    const after = await backup();
    expect(after.totals).toMatchObject({ copied: 0, failed: 0 });
    expect(after.messageFiles).toEqual([]);
  });

  it('still copies what a folder changed at the source gained, without looking at the files it had, and leaves nothing to look at the time after', async () => {
    const client = await connectPlain(addr());
    try {
      await client.append('INBOX', Buffer.from('From: a@example.org\r\nSubject: later\r\nMessage-ID: <later-26@example.org>\r\n\r\nnew since the last run\r\n'), ['\\Seen']);
    } finally {
      await client.logout();
    }

    const rerun = await backup();
    expect(rerun.totals).toMatchObject({ found: 61, copied: 1, failed: 0 });
    expectSame(await snapshotAccount(addr()), await snapshotBackup(backupDir));
    // INBOX, opened to take the new message, was still as sealed: its files are trusted as its
    // listing trusts them (a 70,000-message folder took seconds of stats for one new message).
    expect(rerun.messageFiles).toEqual([]);

    const after = await backup();
    expect(after.totals).toMatchObject({ copied: 0, failed: 0 });
    expect(after.messageFiles).toEqual([]);
    expect(after.listings).toEqual([]);
  });

  it('checks every message file once where no seal vouches for the folders (a backup of an older mailferry), then no more', async () => {
    await fs.rm(path.join(backupDir, '.mailferry', 'maildir-seals.json'));
    // A folder is sealed as found only once its directories have been quiet for two seconds.
    await sleep(2100);

    const rerun = await backup();
    expect(rerun.totals).toMatchObject({ found: 61, copied: 0, failed: 0 });
    expect(rerun.messageFiles).toHaveLength(61);

    const after = await backup();
    expect(after.messageFiles).toEqual([]);
    expect(after.listings).toEqual([]);
  });
});

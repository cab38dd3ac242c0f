import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { splitMbox } from './support/mbox-reader.js';
import { ManifestFile } from '../src/stores/local/manifest.js';
import { snapshotBackup, snapshotMboxFiles } from './support/backup-snapshot.js';
import { runCli, startCli } from './support/cli.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { prng } from './support/prng.js';

const PASSWORD = 'pw-Crash-3';
const KILLS = 20;
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-backup-crash-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD };
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });

const args = (user: string, to: string, format: string): string[] => [
  'backup', '--from', `imap://${user}@${server.host}:${server.port}`, '--from-ca', server.caFile, '--to', path.join(work, to), '--format', format, '--connections', '3', '--json',
];

/** Messages arriving during the campaign, so that every run has mail to write when it is killed. */
async function deliver(user: string, round: number): Promise<void> {
  const c = await connectPlain(addr(user));
  try {
    for (let i = 0; i < 25; i++) {
      const folder = ['INBOX', 'Work', 'Sent'][i % 3]!;
      const body = `${'From the crash campaign, line after line.\r\n'.repeat(40 + i)}`;
      await c.append(folder, Buffer.from(`Subject: round ${round} message ${i}\r\nMessage-ID: <r${round}m${i}@crash>\r\n\r\n${body}`), i % 2 ? ['\\Seen'] : ['$Label1'], new Date(Date.UTC(2024, round % 12, 1 + i)));
    }
  } finally {
    await c.logout();
  }
}

/** What must hold after any kill: no half-written message is visible as mail. */
async function expectNothingTorn(dir: string): Promise<void> {
  const manifest = await ManifestFile.read(dir).catch(() => undefined);
  if (!manifest) return; // killed before the backup directory was set up
  for (const folder of manifest.folders()) {
    const at = path.join(dir, folder.path);
    if (manifest.manifest.format === 'maildir') {
      // Messages reach cur/ only by rename after fsync, so each file has the size its name says.
      for (const sub of ['cur', 'new']) {
        for (const name of await fs.readdir(path.join(at, sub))) {
          const size = Number(/,S=(\d+)/.exec(name)?.[1]);
          expect((await fs.stat(path.join(at, sub, name))).size, `${sub}/${name}`).toBe(size);
        }
      }
    } else {
      // The file parses as mbox: From_ lines only where messages start, each one well formed.
      for (const m of splitMbox(await fs.readFile(at))) expect(m.fromLine).toMatch(/^From \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    }
  }
}

beforeAll(async () => {
  server = await startDovecot({ users: ['kmaildir', 'kmbox'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 41, messages: 500, folders: 8 };
  await Promise.all(['kmaildir', 'kmbox'].map((u) => seedAccount(addr(u), generateCorpus(opts), { folders: corpusFolders(opts) })));
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('kill -9 during a backup, then rerun', () => {
  it.each([
    ['maildir', 'kmaildir'],
    ['mbox', 'kmbox'],
  ])(`%s: ${KILLS} kills at random moments leave no torn message, and the final rerun has every message exactly once`, async (format, user) => {
    const random = prng(format === 'maildir' ? 20261125 : 20261126);
    const to = `killed-${format}`;
    let killed = 0;
    // How long a run that was not killed took (a first guess for the first, full run): kills land
    // in the later half of that, where the run is writing, however fast mailferry gets.
    let runMs = 1000;
    for (let round = 0; round < KILLS; round++) {
      if (round > 0) await deliver(user, round);
      const started = Date.now();
      const { child, done } = startCli(args(user, to, format), env);
      await new Promise((r) => setTimeout(r, runMs * (0.5 + random() / 2)));
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        killed++;
      }
      const result = await done;
      if (result.signal === null) runMs = Date.now() - started;
      if (result.signal === null) expect(result.code, result.stderr).toBe(0);
      await expectNothingTorn(path.join(work, to));
    }
    expect(killed).toBeGreaterThanOrEqual(KILLS / 2);

    const last = await runCli(args(user, to, format), env);
    expect(last.code, last.stderr).toBe(0);
    const source = await snapshotAccount(addr(user));
    const diff = diffSnapshots(source, await snapshotBackup(path.join(work, to)));
    expect(diff.details).toEqual([]);
    expect(diff.duplicates).toBe(0);
    if (format === 'mbox') expect(diffSnapshots(source, await snapshotMboxFiles(path.join(work, to))).details).toEqual([]);
  }, 240_000);
});

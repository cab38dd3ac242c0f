import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli, startCli } from './support/cli.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';
import { prng } from './support/prng.js';
import { startSlowLink, type SlowLink } from './support/slow-link.js';

const PASSWORD = 'pw-RestoreCrash-2';
const KILLS = 20;
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-restore-crash-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: path.join(work, 'state') };
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
let source: Snapshot;
let archive: string;
let link: SlowLink;

/**
 * The restore under test, into the server through a slow upload link (slow-link.ts). Over
 * loopback a whole restore of this backup takes about 1.5 s, most of it outside any APPEND; at
 * 3 MB/s it lasts about 6 s, most of it inside one, and a kill lands where it matters: after the
 * checkpoint recorded the intent, before the server answered. The checkpoint is named so that
 * the test can look into it.
 */
const restoreArgs = (from: string, user: string): string[] => [
  'restore', '--from', from, '--to', `imap://${user}@${server.host}:${link.port}`, '--to-ca', server.caFile, '--connections', '2', '--json', '--state', statePath(user),
];
const LINK_RATE = 3_000_000;
const statePath = (user: string): string => path.join(work, `${user}.sqlite`);

/** Messages whose APPEND was sent but not answered when the run died: rows left `pending`. */
function pendingRows(user: string): number {
  const db = new Database(statePath(user), { fileMustExist: true });
  try {
    return db.prepare<[], { n: number }>("SELECT count(*) AS n FROM messages WHERE state = 'pending'").get()!.n;
  } catch {
    return 0; // killed before the checkpoint had its tables
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  server = await startDovecot({ users: ['ksrc', 'kdir', 'karchive'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 45, messages: 1200, folders: 40, maxSize: 200_000 };
  await seedAccount(addr('ksrc'), generateCorpus(opts), { folders: corpusFolders(opts) });
  source = await snapshotAccount(addr('ksrc'));
  const backup = await runCli(
    ['backup', '--from', url('ksrc'), '--from-ca', server.caFile, '--to', path.join(work, 'backup'), '--archive', path.join(work, 'mail-{date}.tar.gz'), '--json'],
    env,
  );
  expect(backup.code, backup.stderr).toBe(0);
  archive = JSON.parse(backup.stdout).archive;
  link = await startSlowLink({ host: server.host, port: server.port }, LINK_RATE);
}, 180_000);

afterAll(async () => {
  await link?.close();
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

/**
 * Starts the restore `rounds` times, each killed with SIGKILL after a random while in
 * `delayMs`; returns the PIDs killed and after how many kills APPENDs were left in flight.
 */
async function killCampaign(from: string, user: string, rounds: number, seed: number, delayMs: [number, number]): Promise<{ killed: number[]; inFlight: number }> {
  const random = prng(seed);
  const killed: number[] = [];
  let inFlight = 0;
  for (let round = 0; round < rounds; round++) {
    const { child, done } = startCli(restoreArgs(from, user), env);
    await new Promise((r) => setTimeout(r, delayMs[0] + random() * (delayMs[1] - delayMs[0])));
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      killed.push(child.pid!);
    }
    const result = await done;
    if (result.signal === null) expect(result.code, result.stderr).toBe(0);
    else if (await fs.stat(statePath(user)).then(() => pendingRows(user) > 0, () => false)) inFlight++;
  }
  return { killed, inFlight };
}

/** The final run is a rerun like the others, over a fast link; then the oracle. */
async function expectEveryMessageOnce(from: string, user: string): Promise<void> {
  link.rate = undefined;
  const last = await runCli(restoreArgs(from, user), env);
  link.rate = LINK_RATE;
  expect(last.code, last.stderr).toBe(0);
  const diff = diffSnapshots(source, await snapshotAccount(addr(user)));
  expect(diff.details).toEqual([]);
  expect(diff).toMatchObject({ missing: 0, duplicates: 0, extra: 0, equal: true });
}

describe('kill -9 during a restore, then rerun', () => {
  it(`${KILLS} kills at random moments, a rerun after each: in the end every message exactly once`, async () => {
    const { killed, inFlight } = await killCampaign(path.join(work, 'backup'), 'kdir', KILLS, 20261127, [500, 1400]);
    // Most kills must hit a run at work, not one that already finished, and some an APPEND in flight.
    expect(killed.length).toBeGreaterThanOrEqual(KILLS - 2);
    expect(inFlight).toBeGreaterThan(0);
    const partial = await snapshotAccount(addr('kdir'));
    const restored = [...partial.values()].reduce((n, t) => n + t.length, 0);
    expect(restored).toBeLessThan([...source.values()].reduce((n, t) => n + t.length, 0));
    await expectEveryMessageOnce(path.join(work, 'backup'), 'kdir');
  }, 120_000);

  it('from a .tar.gz: 5 kills, then a rerun; the extraction directories of killed runs are removed by the next run', async () => {
    // Later than above: each run first extracts the archive.
    const { killed } = await killCampaign(archive, 'karchive', 5, 20261128, [900, 2600]);
    expect(killed.length).toBeGreaterThanOrEqual(3);
    await expectEveryMessageOnce(archive, 'karchive');
    const left = (await fs.readdir(tmpdir())).filter((n) => killed.some((pid) => n.startsWith(`mailferry-archive-${pid}-`)));
    expect(left).toEqual([]);
  }, 120_000);
});

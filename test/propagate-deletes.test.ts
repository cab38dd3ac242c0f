import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount, withListingOf, type Snapshot, type Tuple } from './support/oracle.js';
import { runCli, startCli } from './support/cli.js';
import { prng } from './support/prng.js';
import { startSlowLink, type SlowLink } from './support/slow-link.js';
import { startFaultProxy, type FaultProxy } from './support/imap-fault-proxy.js';
import { withImapClient } from './support/imap-client.js';

// `migrate --propagate-deletes` (docs/migrate.md, "Cutover"): between two runs users delete and
// move mail at the source; the cutover run removes exactly those copies at the destination.

const PASSWORD = 'pw-Cutover-1';
const USERS = ['src', 'dst', 'nsrc', 'ndst', 'jsrc', 'jdst', 'ksrc', 'kdst', 'usrc', 'udst'];
let server: DovecotServer;
/** The kill test's destination is reached through it, so its removal pass can be made to last. */
let link: SlowLink;
/** The no-UIDPLUS test's destination is reached through it: a server without UIDPLUS. */
let noUidPlus: FaultProxy;
const work = mkdtempSync(join(tmpdir(), 'mf-cutover-'));

const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${user === 'kdst' ? link.port : user === 'udst' ? noUidPlus.port : server.port}`;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };

function migrateArgs(from: string, to: string, state: string, extra: string[] = []): string[] {
  return ['migrate', '--from', url(from), '--to', url(to), '--from-ca', server.caFile, '--to-ca', server.caFile, '--state', join(work, state), '--json', ...extra];
}

const withClient = <T>(user: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> => withImapClient(addr(user), fn);

async function seed(user: string, seedValue: number, messages: number, folders: number): Promise<void> {
  const opts = { seed: seedValue, messages, folders };
  await seedAccount(addr(user), generateCorpus(opts), { folders: corpusFolders(opts) });
}

/** Source messages of a folder whose bytes are unique in it (so their destination copy is known by hash). */
function uniqueTuples(snapshot: Snapshot, folder: string): Tuple[] {
  const tuples = snapshot.get(folder) ?? [];
  return tuples.filter((t) => tuples.filter((o) => o.sha256 === t.sha256).length === 1);
}

function destUidsOf(dest: Snapshot, folder: string, gone: Tuple[]): number[] {
  const hashes = new Set(gone.map((t) => t.sha256));
  return (dest.get(folder) ?? []).filter((t) => hashes.has(t.sha256)).map((t) => t.uid).sort((a, b) => a - b);
}

async function deleteAt(user: string, folder: string, uids: number[]): Promise<void> {
  await withClient(user, async (c) => {
    const lock = await c.getMailboxLock(folder);
    try {
      expect(await c.messageDelete(uids.join(','), { uid: true })).toBe(true);
    } finally {
      lock.release();
    }
  });
}

async function moveAt(user: string, from: string, to: string, uids: number[]): Promise<void> {
  await withClient(user, async (c) => {
    const lock = await c.getMailboxLock(from);
    try {
      expect(await c.messageMove(uids.join(','), to, { uid: true })).toBeTruthy();
    } finally {
      lock.release();
    }
  });
}

const FOREIGN = ['From: someone@else.example', 'To: dst@example.com', 'Subject: added at the destination by someone else', 'Message-ID: <foreign-1@else.example>', '', 'Not from the source.', ''].join('\r\n');
const FOREIGN_SHA = createHash('sha256').update(FOREIGN).digest('hex');

async function appendForeign(user: string): Promise<void> {
  await withClient(user, (c) => c.append('INBOX', FOREIGN, []));
}

/** The destination without the foreign message, which must still be there exactly once. */
function withoutForeign(dest: Snapshot): Snapshot {
  const inbox = dest.get('INBOX') ?? [];
  expect(inbox.filter((t) => t.sha256 === FOREIGN_SHA)).toHaveLength(1);
  return withListingOf(dest, new Map([...dest].map(([f, tuples]) => [f, tuples.filter((t) => t.sha256 !== FOREIGN_SHA)])));
}

/** Per folder, the UIDs a dry run says it would remove (its notices on stderr). */
function wouldRemove(stderr: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const m of stderr.matchAll(/(\S+): would remove (\d+) messages? at the destination \(UIDs ([\d,]+)\)/g)) {
    out[m[1]!] = m[3]!.split(',').map(Number).sort((a, b) => a - b);
    expect(out[m[1]!]).toHaveLength(Number(m[2]));
  }
  return out;
}

function removedPerFolder(stdout: string): Record<string, number> {
  const summary = JSON.parse(stdout) as { folders: Array<{ source: string; removed?: number }> };
  return Object.fromEntries(summary.folders.filter((f) => f.removed).map((f) => [f.source, f.removed!]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rows the removal pass has journaled (intent or outcome) so far. */
function removalRows(state: string): number {
  const db = new Database(join(work, state), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM messages WHERE state IN ('removing', 'removed')").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  server = await startDovecot({ users: USERS.map((name) => ({ name, password: PASSWORD })) });
  await Promise.all([seed('src', 31, 160, 4), seed('nsrc', 32, 60, 3), seed('jsrc', 34, 60, 3), seed('ksrc', 33, 420, 3), seed('usrc', 35, 30, 2)]);
  noUidPlus = await startFaultProxy({ host: server.host, port: server.port }, { hideCapabilities: ['UIDPLUS'] });
  link = await startSlowLink({ host: server.host, port: server.port }, 1, 'down');
  // Unlimited until the kill test slows it.
  link.rate = undefined;
}, 300_000);

afterAll(async () => {
  await noUidPlus?.close();
  await link?.close();
  await server?.stop();
});

describe('migrate --propagate-deletes against a real Dovecot', () => {
  it('after 5 deletions and 3 moves at the source: --dry-run lists exactly those 8 and removes nothing; the run then makes the destination equal the source, leaving a message someone else added', async () => {
    const first = await runCli(migrateArgs('src', 'dst', 'cutover.sqlite'), env);
    expect(first.code).toBe(0);
    expect(diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr('dst'))).details, 'the first run did not copy everything').toEqual([]);
    await appendForeign('dst');

    const source = await snapshotAccount(addr('src'));
    const dest = await snapshotAccount(addr('dst'));
    const folders = [...source.keys()].filter((f) => f !== 'INBOX' && uniqueTuples(source, f).length >= 3);
    const [from, to] = [folders[0]!, folders[1]!];
    const deleted = uniqueTuples(source, 'INBOX').slice(2, 7);
    const moved = uniqueTuples(source, from).slice(0, 3);
    expect(deleted).toHaveLength(5);
    await deleteAt('src', 'INBOX', deleted.map((t) => t.uid));
    await moveAt('src', from, to, moved.map((t) => t.uid));

    const preview = await runCli(migrateArgs('src', 'dst', 'cutover.sqlite', ['--propagate-deletes', '--dry-run']), env);
    expect(preview.code).toBe(0);
    expect(wouldRemove(preview.stderr)).toEqual({ INBOX: destUidsOf(dest, 'INBOX', deleted), [from]: destUidsOf(dest, from, moved) });
    expect(removedPerFolder(preview.stdout)).toEqual({ INBOX: 5, [from]: 3 });
    expect(diffSnapshots(dest, await snapshotAccount(addr('dst'))).equal).toBe(true);

    const cutover = await runCli(migrateArgs('src', 'dst', 'cutover.sqlite', ['--propagate-deletes']), env);
    expect(cutover.code).toBe(0);
    expect(removedPerFolder(cutover.stdout)).toEqual({ INBOX: 5, [from]: 3 });
    const after = withoutForeign(await snapshotAccount(addr('dst')));
    const diff = diffSnapshots(await snapshotAccount(addr('src')), after);
    expect(diff.details).toEqual([]);
    expect(diff.equal).toBe(true);

    const again = await runCli(migrateArgs('src', 'dst', 'cutover.sqlite', ['--propagate-deletes']), env);
    expect(again.code).toBe(0);
    expect(removedPerFolder(again.stdout)).toEqual({});
    withoutForeign(await snapshotAccount(addr('dst')));
  }, 180_000);

  it('without --propagate-deletes nothing is removed; with it, a copy whose bytes are not the ones the journal recorded is left', async () => {
    expect((await runCli(migrateArgs('nsrc', 'ndst', 'plain.sqlite'), env)).code).toBe(0);
    const source = await snapshotAccount(addr('nsrc'));
    const dest = await snapshotAccount(addr('ndst'));
    const deleted = uniqueTuples(source, 'INBOX').slice(0, 3);
    await deleteAt('nsrc', 'INBOX', deleted.map((t) => t.uid));

    const plain = await runCli(migrateArgs('nsrc', 'ndst', 'plain.sqlite'), env);
    expect(plain.code).toBe(0);
    expect(removedPerFolder(plain.stdout)).toEqual({});
    expect(diffSnapshots(dest, await snapshotAccount(addr('ndst'))).equal).toBe(true);

    // The journal no longer vouches for one copy's bytes (as if the destination UID now held
    // another message): it must stay.
    const kept = deleted[0]!;
    const db = new Database(join(work, 'plain.sqlite'));
    const changed = db
      .prepare("UPDATE messages SET dest_sha256 = ? WHERE src_uid = ? AND folder_id = (SELECT id FROM folders WHERE src_name = 'INBOX')")
      .run('f'.repeat(64), kept.uid).changes;
    db.close();
    expect(changed).toBe(1);

    const cutover = await runCli(migrateArgs('nsrc', 'ndst', 'plain.sqlite', ['--propagate-deletes']), env);
    expect(cutover.code).toBe(0);
    expect(removedPerFolder(cutover.stdout)).toEqual({ INBOX: 2 });
    expect(cutover.stderr).toMatch(/INBOX: left 1 message whose bytes differ/);
    const inbox = (await snapshotAccount(addr('ndst'))).get('INBOX')!;
    expect(inbox.filter((t) => t.sha256 === kept.sha256)).toHaveLength(1);
    expect(inbox.filter((t) => deleted.slice(1).some((d) => d.sha256 === t.sha256))).toHaveLength(0);
  }, 120_000);

  it('a rerun settles what a run killed during its removal pass left: copies journaled as being removed are removed if still there, nothing twice', async () => {
    expect((await runCli(migrateArgs('jsrc', 'jdst', 'journal.sqlite'), env)).code).toBe(0);
    const source = await snapshotAccount(addr('jsrc'));
    const dest = await snapshotAccount(addr('jdst'));
    const gone = uniqueTuples(source, 'INBOX').slice(0, 6);
    await deleteAt('jsrc', 'INBOX', gone.map((t) => t.uid));
    // As a run killed between the intent and the EXPUNGE leaves it (the first three), and one
    // killed between the EXPUNGE and the outcome (the last three: already removed).
    const journal = new Database(join(work, 'journal.sqlite'));
    const intend = journal.prepare("UPDATE messages SET state = 'removing' WHERE src_uid = ? AND state = 'done' AND folder_id = (SELECT id FROM folders WHERE src_name = 'INBOX')");
    for (const t of gone) expect(intend.run(t.uid).changes).toBe(1);
    journal.close();
    await deleteAt('jdst', 'INBOX', destUidsOf(dest, 'INBOX', gone.slice(3)));

    const rerun = await runCli(migrateArgs('jsrc', 'jdst', 'journal.sqlite', ['--propagate-deletes']), env);
    expect(rerun.code).toBe(0);
    expect(removedPerFolder(rerun.stdout)).toEqual({ INBOX: 3 });
    const diff = diffSnapshots(await snapshotAccount(addr('jsrc')), await snapshotAccount(addr('jdst')));
    expect(diff.details).toEqual([]);
    const settled = new Database(join(work, 'journal.sqlite'), { readonly: true });
    const states = settled.prepare("SELECT state, count(*) AS n FROM messages WHERE state IN ('removing', 'removed') GROUP BY state").all();
    settled.close();
    expect(states).toEqual([{ state: 'removed', n: 6 }]);

    const again = await runCli(migrateArgs('jsrc', 'jdst', 'journal.sqlite', ['--propagate-deletes']), env);
    expect(removedPerFolder(again.stdout)).toEqual({});
  }, 120_000);

  it('refuses with exit 2 and one line, removing nothing, where the destination has no UIDPLUS (only a bare EXPUNGE, which could remove other messages)', async () => {
    expect((await runCli(migrateArgs('usrc', 'udst', 'nouidplus.sqlite'), env)).code).toBe(0);
    const source = await snapshotAccount(addr('usrc'));
    const dest = await snapshotAccount(addr('udst'));
    await deleteAt('usrc', 'INBOX', uniqueTuples(source, 'INBOX').slice(0, 2).map((t) => t.uid));

    const run = await runCli(migrateArgs('usrc', 'udst', 'nouidplus.sqlite', ['--propagate-deletes']), env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --propagate-deletes: .* has no UIDPLUS/m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(diffSnapshots(dest, await snapshotAccount(addr('udst'))).equal).toBe(true);
    expect(noUidPlus.upstreamBytes().toString('latin1')).not.toMatch(/EXPUNGE|\\Deleted/i);
  }, 120_000);

  it('survives kill -9 at random moments of a cutover run removing 300 messages: the destination then equals the source, nothing else removed', async () => {
    expect((await runCli(migrateArgs('ksrc', 'kdst', 'kill.sqlite'), env)).code).toBe(0);
    await appendForeign('kdst');
    const source = await snapshotAccount(addr('ksrc'));
    const folders = [...source.keys()].sort((a, b) => (source.get(b)?.length ?? 0) - (source.get(a)?.length ?? 0));
    let left = 300;
    for (const folder of folders) {
      const uids = (source.get(folder) ?? []).map((t) => t.uid).slice(0, Math.min(left, (source.get(folder)?.length ?? 0) - 5));
      if (uids.length <= 0) continue;
      await deleteAt('ksrc', folder, uids);
      left -= uids.length;
      if (left === 0) break;
    }
    expect(left).toBe(0);

    // The removal pass fetches each copy to hash it: over this link it lasts seconds. Each run is
    // killed at a random moment after it journaled its first removal intent, so the kills land
    // inside the removal pass, between intent and outcome among others, whatever the machine's speed.
    link.rate = 600_000;
    const random = prng(20261206);
    let killed = 0;
    for (let i = 0; i < 6; i++) {
      const before = removalRows('kill.sqlite');
      const { child, done } = startCli(migrateArgs('ksrc', 'kdst', 'kill.sqlite', ['--propagate-deletes']), env);
      while (child.exitCode === null && removalRows('kill.sqlite') === before) await sleep(20);
      await sleep(random() * 1000);
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        killed++;
      }
      const run = await done;
      if (run.signal === null) expect(run.code, run.stderr).toBe(0);
    }
    expect(killed).toBeGreaterThan(0);
    link.rate = undefined;
    const last = await runCli(migrateArgs('ksrc', 'kdst', 'kill.sqlite', ['--propagate-deletes']), env);
    expect(last.code).toBe(0);
    const diff = diffSnapshots(await snapshotAccount(addr('ksrc')), withoutForeign(await snapshotAccount(addr('kdst'))));
    expect(diff.details).toEqual([]);
    expect(diff.equal).toBe(true);
  }, 240_000);
});

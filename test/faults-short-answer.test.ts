import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli, type CliRun } from './support/cli.js';
import { startFaultProxy, type Injection } from './support/imap-fault-proxy.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';

/*
 * A server may answer a FETCH with OK and fewer messages than it lists (a message it cannot read
 * for the moment, a backend that gave up half-way). A message left out of such an answer is not
 * expunged: it must be copied, then or by a later run, and never silently passed over.
 */

const PASSWORD = 'pw-ShortAnswer-4';
const USERS = ['src', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'r1', 'r2', 'r3'];
const work = mkdtempSync(path.join(tmpdir(), 'mf-short-answer-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: path.join(work, 'state') };
let server: DovecotServer;
let source: Snapshot;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string, port = server.port) => `imap://${user}@${server.host}:${port}`;

beforeAll(async () => {
  server = await startDovecot({ users: USERS.map((name) => ({ name, password: PASSWORD })) });
  // INBOX, with a 2 MB message, is copied in batches; the small folders come with their first scan.
  const opts = { seed: 31, messages: 90, folders: 6, maxSize: 60_000, bigMessages: [2_000_000] };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  source = await snapshotAccount(addr('src'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

/** The FETCH of a whole folder with its messages' bytes: a small folder's first scan. */
const SCAN_WITH_BODIES = /^\S+ UID FETCH 1:\* \(.*BODY\.PEEK\[\]/;
/** A FETCH of a batch's bytes, by UID. */
const BATCH = /^\S+ UID FETCH (?!1:\*)\S+ \(.*BODY\.PEEK\[\]/;
/** Any FETCH of messages' bytes. */
const BODIES = /^\S+ UID FETCH \S+ \(.*BODY\.PEEK\[\]/;
/** The FETCH of a whole folder's metadata (flags, sizes, dates). */
const LISTING = /^\S+ UID FETCH 1:\* \((?!.*BODY\.PEEK)/;

/** A FETCH of the bytes of several messages (a UID range or list). */
const SEVERAL = /^\S+ UID FETCH (?!1:\*)\S*[:,]\S* \(.*BODY\.PEEK\[\]/;
/** A FETCH of the bytes of UID 3 alone. */
const UID_3_ALONE = /^\S+ UID FETCH 3 \(.*BODY\.PEEK\[\]/;

/** The refusal a server gives for a message it cannot read, in its place. */
const refused = (match: RegExp, nth?: number): Injection => ({ match, ...(nth ? { nth } : {}), reply: (tag) => `${tag} NO [SERVERBUG] Internal error occurred. Refer to server log for more information.\r\n` });

/** OK with no message at all, in the server's place. */
const answeredEmpty = (match: RegExp, nth?: number): Injection => ({ match, ...(nth ? { nth } : {}), reply: (tag) => `${tag} OK Fetch completed.\r\n` });

const migrateArgs = (dest: string, port: number, ...more: string[]) => ['migrate', '--from', url('src', port), '--to', url(dest), '--state', path.join(work, `${dest}.sqlite`), '--connections', '2', '--json', ...more];

/** Migrates src into `dest` reading the source through a proxy that answers as `injections` say; then reruns it straight. */
async function migrateThrough(dest: string, injections: Injection[]): Promise<{ first: CliRun; rerun: CliRun; log: string[] }> {
  const proxy = await startFaultProxy({ host: server.host, port: server.port }, { injections });
  let first: CliRun;
  try {
    first = await runCli(migrateArgs(dest, proxy.port), env);
  } finally {
    await proxy.close();
  }
  const rerun = await runCli(migrateArgs(dest, server.port), env);
  return { first, rerun, log: [...proxy.log] };
}

async function expectEqual(dest: string): Promise<void> {
  const diff = diffSnapshots(source, await snapshotAccount(addr(dest)));
  expect(diff.details).toEqual([]);
  expect(diff.duplicates).toBe(0);
}

interface Summary {
  totals: { copied: number; failed: number; skipped: Record<string, number> };
}

const summary = (run: CliRun): Summary => JSON.parse(run.stdout) as Summary;

/** With one short answer injected, the first run copies everything by itself: none taken for expunged, none left for the rerun. */
async function expectCopiedByFirstRun(dest: string, injection: Injection): Promise<void> {
  const { first, rerun, log } = await migrateThrough(dest, [injection]);
  expect(log).toHaveLength(1);
  expect(first.code, first.stderr).toBe(0);
  expect(summary(first).totals.skipped['source-expunged'] ?? 0).toBe(0);
  expect(summary(rerun).totals.copied).toBe(0);
  await expectEqual(dest);
}

describe('a FETCH answered OK with fewer messages than the folder holds', () => {
  it('a small folder whose first scan comes back empty is listed again, and every message is copied in the same run', async () => {
    await expectCopiedByFirstRun('a1', answeredEmpty(SCAN_WITH_BODIES, 1));
  });

  it('a batch answered without its messages is fetched again, and nothing is taken for expunged', async () => {
    await expectCopiedByFirstRun('a2', answeredEmpty(BATCH, 1));
  });

  it('messages the server keeps answering without are failed, named, and copied by the next run', async () => {
    const { first, rerun } = await migrateThrough('a3', [answeredEmpty(BODIES)]);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/ UID \d+: damaged-source: .* lists UID \d+ in \S+ but twice answered a FETCH of it without the message$/m);
    expect(summary(first).totals.failed).toBe([...source.values()].reduce((a, f) => a + f.length, 0));
    expect(summary(first).totals.copied).toBe(0);
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectEqual('a3');
  });

  it('a folder listing that comes back empty once is asked again', async () => {
    await expectCopiedByFirstRun('a4', answeredEmpty(LISTING, 1));
  });

  it('a message the server leaves out of every listing: the rest of its folder is copied, the folder is reported not complete, and the next run copies the one left', async () => {
    // The third message of every folder listed without its bytes (the bodies' rows carry a literal).
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, { dropLines: /^\* \d+ FETCH \(UID 3 [^{]*\)$/ });
    let first: CliRun;
    try {
      first = await runCli(migrateArgs('a5', proxy.port), env);
    } finally {
      await proxy.close();
    }
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/^error: INBOX: .* lists \d+ messages in INBOX but answered a FETCH of them all with \d+; the folder is not complete, a later run copies the rest$/m);
    expect(first.stderr).not.toMatch(/\n\s+at \S+ \(/);
    const inbox = source.get('INBOX')!;
    expect(summary(first).totals.copied).toBe([...source.values()].reduce((a, f) => a + f.length, 0) - 1);
    const copied = (await snapshotAccount(addr('a5'))).get('INBOX') ?? [];
    expect(copied).toHaveLength(inbox.length - 1);

    const rerun = await runCli(migrateArgs('a5', server.port), env);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(summary(rerun).totals.copied).toBe(1);
    await expectEqual('a5');
  });

  it('a mirror removes nothing at the destination on a folder list that keeps coming back empty', async () => {
    const copied = await runCli(migrateArgs('a6', server.port, '--propagate-deletes'), env);
    expect(copied.code, copied.stderr).toBe(0);
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, { injections: [answeredEmpty(LISTING)] });
    let rerun: CliRun;
    try {
      rerun = await runCli(migrateArgs('a6', proxy.port, '--propagate-deletes'), env);
    } finally {
      await proxy.close();
    }
    await expectEqual('a6');
    expect(rerun.stderr).toMatch(/INBOX: nothing removed at the destination: .* lists \d+ messages in INBOX but answered a FETCH of them all with 0$/m);
  });

  it('verify reports a source folder listed short as one it cannot compare, not as messages missing', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, { dropLines: /^\* \d+ FETCH \(UID 3 [^{]*\)$/ });
    let run: CliRun;
    try {
      // a1 holds the source's messages (the first test).
      run = await runCli(['verify', '--from', url('src', proxy.port), '--to', url('a1')], env);
    } finally {
      await proxy.close();
    }
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^INBOX -> INBOX: .*: ERROR .* lists \d+ messages in INBOX but answered a FETCH of them all with \d+; the folder cannot be compared$/m);
    expect(run.stdout).not.toMatch(/missing|extra/);
  });
});

describe('a FETCH of messages\' bytes refused (NO)', () => {
  it("a small folder's first FETCH, sent with its EXAMINE, refused once: the folder is read again and everything is copied in the same run", async () => {
    await expectCopiedByFirstRun('r3', refused(SCAN_WITH_BODIES, 1));
  });

  it('a batch refused once is asked again message by message, and everything is copied in the same run', async () => {
    await expectCopiedByFirstRun('r1', refused(BATCH, 1));
  });

  it('a message the server always refuses is failed with the server\'s words, the rest of its batch is copied, and the next run copies it', async () => {
    const { first, rerun } = await migrateThrough('r2', [refused(SEVERAL), refused(UID_3_ALONE)]);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/^warning: INBOX UID 3: damaged-source: .* refused to give UID 3 of INBOX: Internal error occurred\. Refer to server log for more information\.$/m);
    expect(summary(first).totals.failed).toBe(1);
    expect(summary(first).totals.copied).toBe([...source.values()].reduce((a, f) => a + f.length, 0) - 1);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(summary(rerun).totals.copied).toBe(1);
    await expectEqual('r2');
  });
});

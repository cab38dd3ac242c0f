import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow, type SearchObject } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';
import { runCli } from './support/cli.js';
import { startGmailServer, type GmailServer } from './support/gmail-server.js';
import { withImapClient } from './support/imap-client.js';

const PASSWORD = 'pw-Search-1';
const USERS = ['src', 'dst', 'udst', 'bdst', 'xdst', 'gdst', 'gdst2'];
let server: DovecotServer;
const work = mkdtempSync(join(tmpdir(), 'mf-search-'));

const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };

function migrateArgs(to: string, state: string, extra: string[]): string[] {
  return ['migrate', '--from', url('src'), '--to', url(to), '--from-ca', server.caFile, '--to-ca', server.caFile, '--state', join(work, state), '--json', ...extra];
}

function backupArgs(dir: string, extra: string[]): string[] {
  return ['backup', '--from', url('src'), '--from-ca', server.caFile, '--to', join(work, dir), '--json', ...extra];
}

const withClient = <T>(user: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> => withImapClient(addr(user), fn);

/** The source's own answer, folder by folder, through imapflow's SEARCH, not mailferry's. */
async function serverSearch(query: SearchObject): Promise<Map<string, Set<number>>> {
  return withClient('src', async (c) => {
    const out = new Map<string, Set<number>>();
    for (const f of await c.list()) {
      if (f.flags.has('\\Noselect')) continue;
      const lock = await c.getMailboxLock(f.path, { readOnly: true });
      try {
        const found = await c.search(query, { uid: true });
        out.set(f.path, new Set(Array.isArray(found) ? found : []));
      } finally {
        lock.release();
      }
    }
    return out;
  });
}

async function uidNexts(user: string): Promise<Record<string, number>> {
  return withClient(user, async (c) => {
    const out: Record<string, number> = {};
    for (const f of await c.list({ statusQuery: { uidNext: true } })) out[f.path] = f.status?.uidNext ?? -1;
    return out;
  });
}

/** The source snapshot cut down to the messages the server found. */
function only(source: Snapshot, matches: Map<string, Set<number>>): Snapshot {
  return new Map([...source].map(([folder, tuples]) => [folder, tuples.filter((t) => matches.get(folder)?.has(t.uid))]));
}

function union(a: Map<string, Set<number>>, b: Map<string, Set<number>>): Map<string, Set<number>> {
  return new Map([...a].map(([folder, uids]) => [folder, new Set([...uids, ...(b.get(folder) ?? [])])]));
}

/** Per source folder: [copied, skipped by search] as the run reports them. */
function perFolder(summary: { folders: Array<{ source: string; copied: number; skipped: Record<string, number> }> }): Record<string, [number, number]> {
  return Object.fromEntries(summary.folders.map((f) => [f.source, [f.copied, f.skipped['not-matching-search'] ?? 0]]));
}

function expected(matches: Map<string, Set<number>>, found: Map<string, number>): Record<string, [number, number]> {
  return Object.fromEntries([...matches].map(([folder, uids]) => [folder, [uids.size, found.get(folder)! - uids.size]]));
}

let found: Map<string, number>;
let source: Snapshot;

beforeAll(async () => {
  server = await startDovecot({ users: USERS.map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 31, messages: 240, folders: 4 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  source = await snapshotAccount(addr('src'));
  found = new Map(await withClient('src', async (c) => (await c.list({ statusQuery: { messages: true } })).map((f) => [f.path, f.status?.messages ?? 0] as [string, number])));
}, 300_000);

afterAll(async () => {
  await server?.stop();
});

describe('--search: messages selected by the source server', () => {
  const alice = 'FROM alice@example.org';
  const aliceOrBob = 'OR FROM alice@example.org FROM bob@example.com';

  it('migrate copies exactly what the server finds, counts the rest as skipped by search, and its dry run says the same', async () => {
    const matches = await serverSearch({ from: 'alice@example.org' });
    expect([...matches.values()].some((s) => s.size > 0)).toBe(true);

    const dry = await runCli(migrateArgs('dst', 'alice.sqlite', ['--search', alice, '--dry-run']), env);
    expect(dry.code).toBe(0);
    const preview = JSON.parse(dry.stdout);
    expect(preview.search).toBe(alice);
    expect(perFolder(preview)).toEqual(expected(matches, found));

    const run = await runCli(migrateArgs('dst', 'alice.sqlite', ['--search', alice]), env);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.search).toBe(alice);
    expect(perFolder(summary)).toEqual(perFolder(preview));
    const diff = diffSnapshots(only(source, matches), await snapshotAccount(addr('dst')));
    expect(diff.details).toEqual([]);
  });

  it('a rerun with the same criteria opens no folder and copies nothing, still counting the skips', async () => {
    const before = await uidNexts('dst');
    const run = await runCli(migrateArgs('dst', 'alice.sqlite', ['--search', alice, '--debug']), env);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.totals.copied).toBe(0);
    const matches = await serverSearch({ from: 'alice@example.org' });
    expect(perFolder(summary)).toEqual(Object.fromEntries([...matches].map(([folder, uids]) => [folder, [0, found.get(folder)! - uids.size]])));
    const opened = run.stderr.split('\n').filter((l) => / debug: \S+ (SELECT|EXAMINE|UID SEARCH) /.test(l));
    expect(opened).toEqual([]);
    expect(await uidNexts('dst')).toEqual(before);
  });

  it('a rerun with other criteria copies exactly what now matches and was not copied', async () => {
    const alices = await serverSearch({ from: 'alice@example.org' });
    const bobs = await serverSearch({ from: 'bob@example.com' });
    const both = union(alices, bobs);
    const dry = await runCli(migrateArgs('dst', 'alice.sqlite', ['--search', aliceOrBob, '--dry-run']), env);
    expect(dry.code).toBe(0);
    const run = await runCli(migrateArgs('dst', 'alice.sqlite', ['--search', aliceOrBob]), env);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    const newly = [...both.values()].reduce((a, s) => a + s.size, 0) - [...alices.values()].reduce((a, s) => a + s.size, 0);
    expect(newly).toBeGreaterThan(0);
    expect(summary.totals.copied).toBe(newly);
    expect(JSON.parse(dry.stdout).totals.copied).toBe(newly);
    const skipped = summary.folders.reduce((a: number, f: { skipped: Record<string, number> }) => a + (f.skipped['not-matching-search'] ?? 0), 0);
    expect(skipped).toBe([...found.values()].reduce((a, n) => a + n, 0) - [...both.values()].reduce((a, s) => a + s.size, 0));
    const diff = diffSnapshots(only(source, both), await snapshotAccount(addr('dst')));
    expect(diff.details).toEqual([]);
  });

  it('is combined with --max-size: both must hold', async () => {
    const matches = await serverSearch({ from: 'bob@example.com', smaller: 4001 });
    const run = await runCli(migrateArgs('xdst', 'bob-small.sqlite', ['--search', 'FROM bob@example.com', '--max-size', '4000']), env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).totals.copied).toBe([...matches.values()].reduce((a, s) => a + s.size, 0));
    const diff = diffSnapshots(only(source, matches), await snapshotAccount(addr('xdst')));
    expect(diff.details).toEqual([]);
  });

  it('a non-ASCII criterion goes as UTF-8 and matches what Dovecot itself finds', async () => {
    const matches = await serverSearch({ subject: 'café' });
    expect([...matches.values()].some((s) => s.size > 0)).toBe(true);
    const run = await runCli(migrateArgs('udst', 'cafe.sqlite', ['--search', 'SUBJECT café', '--debug']), env);
    expect(run.code).toBe(0);
    const searches = run.stderr.split('\n').filter((l) => / debug: \S+ UID SEARCH /.test(l));
    expect(searches.length).toBeGreaterThan(0);
    for (const line of searches) expect(line).toMatch(/ UID SEARCH CHARSET UTF-8 SUBJECT /);
    expect(perFolder(JSON.parse(run.stdout))).toEqual(expected(matches, found));
    const diff = diffSnapshots(only(source, matches), await snapshotAccount(addr('udst')));
    expect(diff.details).toEqual([]);
  });

  it('backup keeps what the server finds; its dry run counts the same; a rerun with other criteria adds the new matches', async () => {
    const alices = await serverSearch({ from: 'alice@example.org' });
    const dry = await runCli(backupArgs('backup', ['--search', alice, '--dry-run']), env);
    expect(dry.code).toBe(0);
    expect(perFolder(JSON.parse(dry.stdout))).toEqual(expected(alices, found));
    const run = await runCli(backupArgs('backup', ['--search', alice]), env);
    expect(run.code).toBe(0);
    expect(perFolder(JSON.parse(run.stdout))).toEqual(expected(alices, found));

    const both = union(alices, await serverSearch({ from: 'bob@example.com' }));
    const again = await runCli(backupArgs('backup', ['--search', aliceOrBob]), env);
    expect(again.code).toBe(0);
    const total = (m: Map<string, Set<number>>) => [...m.values()].reduce((a, s) => a + s.size, 0);
    expect(JSON.parse(again.stdout).totals.copied).toBe(total(both) - total(alices));
  });

  it.each([
    ['a key missing its argument', 'FROM', /--search: FROM needs a string/],
    ['an unknown key', 'FROMM alice', /--search: unknown search key FROMM/],
    ['an unbalanced parenthesis', '(FROM alice', /--search: unmatched "\("/],
    ['a key Dovecot refuses (a zero interval)', 'OLDER 0', /--search refused by the server in \S+: .*Invalid search interval parameter/],
  ])('%s is exit 2 before anything is written', async (_what, criteria, message) => {
    const before = await uidNexts('bdst');
    const run = await runCli(migrateArgs('bdst', 'bad.sqlite', ['--search', criteria]), env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(work, 'bad.sqlite'))).toBe(false);
    expect(await uidNexts('bdst')).toEqual(before);
  });

  it('--gmail-search on a server that is not Gmail is exit 2 before anything is written', async () => {
    const before = await uidNexts('bdst');
    const run = await runCli(migrateArgs('bdst', 'gmail.sqlite', ['--gmail-search', 'from:alice has:attachment']), env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--gmail-search: the source server is not Gmail/);
    expect(existsSync(join(work, 'gmail.sqlite'))).toBe(false);
    expect(await uidNexts('bdst')).toEqual(before);
  });
});

describe("--gmail-search: Gmail's own query language, as X-GM-RAW", () => {
  let gmail: GmailServer;
  const fromGmail = () => ['--from', `imap://gs@127.0.0.1:${gmail.port}`];
  const toDovecot = (user: string) => ['--to', url(user), '--to-ca', server.caFile];
  const gmailRun = (user: string, state: string, extra: string[]) =>
    runCli(['migrate', ...fromGmail(), ...toDovecot(user), '--state', join(work, state), '--folder', 'INBOX', '--json', ...extra], env);

  /** Gmail's own answer in INBOX, through imapflow's SEARCH. */
  async function gmailSearch(query: SearchObject): Promise<Set<number>> {
    const c = new ImapFlow({ host: '127.0.0.1', port: gmail.port, secure: false, doSTARTTLS: false, auth: { user: 'gs', pass: PASSWORD }, logger: false });
    await c.connect();
    try {
      await c.mailboxOpen('INBOX', { readOnly: true });
      const found = await c.search(query, { uid: true });
      return new Set(Array.isArray(found) ? found : []);
    } finally {
      await c.logout();
    }
  }

  beforeAll(async () => {
    gmail = await startGmailServer({ users: [{ name: 'gs', password: PASSWORD }] });
    for (const m of generateCorpus({ seed: 32, messages: 80, folders: 2 })) {
      gmail.addMessage('gs', { raw: m.raw, flags: m.flags, internalDate: m.internalDate, labels: ['\\Inbox'], location: 'mail' });
    }
  }, 60_000);

  afterAll(async () => {
    await gmail?.close();
  });

  it('copies what Gmail finds, with --search as well when given; the rest is skipped by search', async () => {
    const matches = await gmailSearch({ gmraw: 'from:alice@example.org', seen: false });
    const all = await gmailSearch({ all: true });
    expect(matches.size).toBeGreaterThan(0);
    expect(matches.size).toBeLessThan((await gmailSearch({ gmraw: 'from:alice@example.org' })).size);
    const run = await gmailRun('gdst', 'gmail-alice.sqlite', ['--gmail-search', 'from:alice@example.org', '--search', 'UNSEEN']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.search).toBe('UNSEEN X-GM-RAW "from:alice@example.org"');
    expect(perFolder(summary)).toEqual({ INBOX: [matches.size, all.size - matches.size] });
  });

  it('a query Gmail refuses is exit 2 with its words, before anything is written', async () => {
    const before = await uidNexts('gdst2');
    const run = await gmailRun('gdst2', 'gmail-bad.sqlite', ['--gmail-search', 'has:attachment']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--gmail-search refused by the server in INBOX: .*Unsupported X-GM-RAW term has:attachment/);
    expect(existsSync(join(work, 'gmail-bad.sqlite'))).toBe(false);
    expect(await uidNexts('gdst2')).toEqual(before);
  });
});

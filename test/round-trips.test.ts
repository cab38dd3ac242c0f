import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { decodeMutf7 } from '../src/stores/local/mutf7.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { runCli } from './support/cli.js';
import { startFaultProxy } from './support/imap-fault-proxy.js';
import { ImapFlow } from 'imapflow';

const PASSWORD = 'pw-Setup-1';
let server: DovecotServer;
const work = mkdtempSync(join(tmpdir(), 'mf-round-trips-'));

const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };

/** What one account's connections sent and received, in the order the --debug log has it (`address`: where it was reached). */
function commandLines(logFile: string, user: string, address = url(user)): string[] {
  const prefix = `imap ${address} `;
  return readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { message?: string }).message ?? '')
    .filter((m) => m.startsWith(prefix))
    .map((m) => m.slice(prefix.length));
}

/** The command names one account's connections sent (and the tagged answers' OK/NO/BAD), in order. */
function commandsTo(logFile: string, user: string): string[] {
  return commandLines(logFile, user)
    .map((m) => /debug: [A-Za-z0-9.]+ (?:UID )?([A-Z]+)\b/.exec(m)?.[1])
    .filter((c): c is string => c !== undefined);
}

/** A first migration of src into `dest` with a `--debug` log (`<name>.jsonl`) and its own checkpoint. */
async function migrateLogged(dest: string, connections: number, name: string, extra: string[] = []): Promise<{ log: string; stdout: string }> {
  const log = join(work, `${name}.jsonl`);
  const run = await runCli(
    ['migrate', '--from', url('src'), '--to', url(dest), '--state', join(work, `${name}.sqlite`), '--connections', String(connections), '--debug', '--log-file', log, '--json', ...extra],
    env,
  );
  expect(run.code).toBe(0);
  return { log, stdout: run.stdout };
}

async function expectCopiedExactly(dest: string): Promise<void> {
  const diff = diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr(dest)));
  expect(diff.details).toEqual([]);
  expect(diff.equal).toBe(true);
}

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'dst', 'dst2', 'dst3', 'big', 'bigdst', 'single'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 24, messages: 60, folders: 8 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('round trips a run does without', () => {
  it('creates every missing destination folder before the first APPEND, even on one connection, and copies exactly', async () => {
    const { log } = await migrateLogged('dst', 1, 'run');
    const commands = commandsTo(log, 'dst');
    const creates = commands.flatMap((c, i) => (c === 'CREATE' ? [i] : []));
    expect(creates.length).toBeGreaterThanOrEqual(5);
    // One connection: a folder's worker would otherwise create its folder only after the last
    // folder's messages were appended.
    expect(Math.max(...creates)).toBeLessThan(commands.indexOf('APPEND'));

    await expectCopiedExactly('dst');
  });

  it('looks at what the destination stored with one FETCH per APPEND, also when headers hold 8-bit bytes', () => {
    const lines = commandLines(join(work, 'run.jsonl'), 'dst').filter((l) => /debug: [A-Za-z0-9.]+ (UID FETCH|APPEND)\b/.test(l));
    const appends = lines.filter((l) => / APPEND /.test(l)).length;
    // Sizes (and headers) of what was appended; BODY.PEEK[] would be a stored copy that differs.
    const metadata = lines.filter((l) => / UID FETCH /.test(l) && !l.includes('BODY.PEEK[]'));
    expect(metadata.some((l) => l.includes('BODY.PEEK[HEADER]'))).toBe(true);
    expect(metadata).toHaveLength(appends);
  });

  it('plans a first run without filters from the sizes in the listing (STATUS=SIZE): each source folder is opened once, by its copy', async () => {
    const { log, stdout } = await migrateLogged('dst3', 2, 'listed');
    writeFileSync(join(work, 'listed.json'), stdout);
    const summary = JSON.parse(stdout) as { plan?: { messages: number; bytes: number }; folders: Array<{ found: number; copied: number; bytes: number }> };
    expect(commandLines(log, 'src').some((l) => /\bLIST .*STATUS \(.*\bSIZE\b/.test(l)), 'the listing asked for no sizes').toBe(true);
    expect(summary.plan?.messages).toBe(summary.folders.reduce((a, f) => a + f.copied, 0));
    expect(summary.plan?.bytes).toBe(summary.folders.reduce((a, f) => a + f.bytes, 0));
    const withMail = summary.folders.filter((f) => f.found > 0).length;
    expect(withMail).toBeGreaterThanOrEqual(5);
    expect(commandsTo(log, 'src').filter((c) => c === 'EXAMINE')).toHaveLength(withMail);

    await expectCopiedExactly('dst3');
  });

  it('brings the messages of a small folder along with its first scan: one UID FETCH for the folder, not a scan then a fetch', () => {
    const summary = JSON.parse(readFileSync(join(work, 'listed.json'), 'utf8')) as { folders: Array<{ source: string; found: number; bytes: number }> };
    const fetchesAfter = new Map<string, number>();
    const open = new Map<string, string>();
    for (const line of commandLines(join(work, 'listed.jsonl'), 'src')) {
      const m = /^(\S+) debug: [A-Za-z0-9.]+ (EXAMINE|UID FETCH) ?(.*)$/.exec(line);
      if (!m) continue;
      if (m[2] === 'EXAMINE') open.set(m[1]!, decodeMutf7(m[3]!.replace(/^"|"$/g, '')) ?? m[3]!);
      else fetchesAfter.set(open.get(m[1]!)!, (fetchesAfter.get(open.get(m[1]!)!) ?? 0) + 1);
    }
    const small = summary.folders.filter((f) => f.found > 0 && f.bytes <= 1 << 20);
    expect(small.length).toBeGreaterThanOrEqual(3);
    for (const f of small) expect(fetchesAfter.get(f.source), f.source).toBe(1);
  });

  it("sends each folder's first scan right behind its EXAMINE, before the EXAMINE is answered (pipelined: one round trip for both)", () => {
    const summary = JSON.parse(readFileSync(join(work, 'listed.json'), 'utf8')) as { folders: Array<{ found: number }> };
    const lines = commandLines(join(work, 'listed.jsonl'), 'src');
    // Per connection: the tag of the EXAMINE sent last and not yet answered.
    const examining = new Map<string, string>();
    let pipelined = 0;
    let waited = 0;
    for (const line of lines) {
      const m = /^(\S+) debug: ([A-Za-z0-9.]+) (EXAMINE|UID FETCH 1:\* |OK \[READ-ONLY\])/.exec(line);
      if (!m) continue;
      const [, conn, tag, what] = m;
      if (what === 'EXAMINE') examining.set(conn!, tag!);
      else if (what!.startsWith('OK')) examining.delete(conn!);
      else if (examining.has(conn!)) pipelined++;
      else waited++;
    }
    expect(waited, 'a first scan waited for its EXAMINE to be answered').toBe(0);
    expect(pipelined).toBeGreaterThanOrEqual(summary.folders.filter((f) => f.found > 0).length);
  });

  it('creates the missing destination folders on one connection, pipelined: each level of the hierarchy in one round trip, a parent before its children', () => {
    const summary = JSON.parse(readFileSync(join(work, 'listed.json'), 'utf8')) as { folders: Array<{ source: string }> };
    const depth = Math.max(...summary.folders.map((f) => f.source.split('/').length));
    const connections = new Set<string>();
    const outstanding = new Set<string>();
    const created: string[] = [];
    let rounds = 0;
    for (const line of commandLines(join(work, 'listed.jsonl'), 'dst3')) {
      const m = /^(\S+) debug: ([A-Za-z0-9.]+) (CREATE (.*)|OK |NO |BAD )/.exec(line);
      if (!m) continue;
      const [, conn, tag, what, name] = m;
      if (what!.startsWith('CREATE')) {
        connections.add(conn!);
        // A CREATE sent while none is waiting for its answer starts a round trip.
        if (outstanding.size === 0) rounds++;
        outstanding.add(`${conn} ${tag}`);
        const folder = decodeMutf7(name!.replace(/^"|"$/g, '')) ?? name!;
        const parent = folder.split('/').slice(0, -1).join('/');
        expect(!parent || !summary.folders.some((f) => f.source === parent) || created.includes(parent), `${folder} was created before its parent`).toBe(true);
        created.push(folder);
      } else outstanding.delete(`${conn} ${tag}`);
    }
    expect(created.length).toBeGreaterThanOrEqual(5);
    expect(depth).toBeGreaterThanOrEqual(2);
    expect(connections.size, 'CREATEs went out on more than one connection').toBe(1);
    expect(rounds, `${created.length} CREATEs, a hierarchy ${depth} deep`).toBeLessThanOrEqual(depth);
  });

  it('scans each source folder once, though a filtered plan and the copy both read it, and copies exactly', async () => {
    // A size filter (one that lets every message through) makes the plan look at each message.
    const { log, stdout } = await migrateLogged('dst2', 2, 'scan', ['--max-size', '1000000000']);
    const summary = JSON.parse(stdout) as { plan?: unknown; folders: Array<{ found: number }> };
    // The first run's plan was made, so every folder with mail was opened twice.
    expect(summary.plan).toBeDefined();
    const withMail = summary.folders.filter((f) => f.found > 0).length;
    expect(withMail).toBeGreaterThanOrEqual(5);
    expect(commandLines(log, 'src').filter((l) => /UID FETCH 1:\* \(UID FLAGS INTERNALDATE RFC822\.SIZE/.test(l))).toHaveLength(withMail);

    await expectCopiedExactly('dst2');
  });

  it('appends a message that goes alone without waiting for a "+" continuation where the server takes LITERAL+', async () => {
    // 300 KB: over the 4 KB that imapflow's own APPEND would send without waiting; alone, since
    // it is INBOX's only message.
    const body = `${'a line of text that fills a large message\r\n'.repeat(7000)}`;
    const raw = Buffer.from(`From: a@example.org\r\nSubject: alone\r\nMessage-ID: <alone@x>\r\n\r\n${body}`);
    const client = new ImapFlow({ host: server.host, port: server.port, secure: false, doSTARTTLS: false, auth: { user: 'big', pass: PASSWORD }, logger: false });
    await client.connect();
    try {
      await client.append('INBOX', raw, ['\\Seen'], new Date('2020-01-02T03:04:05Z'));
    } finally {
      await client.logout();
    }
    const log = join(work, 'alone.jsonl');
    const run = await runCli(['migrate', '--from', url('big'), '--to', url('bigdst'), '--state', join(work, 'alone.sqlite'), '--debug', '--log-file', log, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const lines = commandLines(log, 'bigdst');
    expect(lines.filter((l) => /debug: [A-Za-z0-9.]+ APPEND /.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /debug: \+ /.test(l)), 'the APPEND waited for a continuation').toEqual([]);
    const diff = diffSnapshots(await snapshotAccount(addr('big')), await snapshotAccount(addr('bigdst')));
    expect(diff.details).toEqual([]);
  });

  it('appends a batch as single APPENDs sent pipelined, one round trip, where the server takes LITERAL+ but not MULTIAPPEND (as Exchange), and copies exactly', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, { hideCapabilities: ['MULTIAPPEND'] });
    try {
      const log = join(work, 'single.jsonl');
      const to = `imap://single@${server.host}:${proxy.port}`;
      const run = await runCli(['migrate', '--from', url('src'), '--to', to, '--state', join(work, 'single.sqlite'), '--connections', '1', '--debug', '--log-file', log, '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      const lines = commandLines(log, 'single', to);
      expect(lines.some((l) => /\bMULTIAPPEND\b/.test(l)), 'the proxy showed MULTIAPPEND').toBe(false);
      // Per APPEND sent: whether another APPEND was still waiting for its answer (pipelined) or not (a new round trip).
      const outstanding = new Set<string>();
      let appends = 0;
      let rounds = 0;
      for (const line of lines) {
        const m = /^(\S+) debug: ([A-Za-z0-9.]+) (APPEND |OK |NO |BAD )/.exec(line);
        if (!m) continue;
        const [, conn, tag, what] = m;
        if (what === 'APPEND ') {
          appends++;
          if (outstanding.size === 0) rounds++;
          outstanding.add(`${conn} ${tag}`);
        } else outstanding.delete(`${conn} ${tag}`);
      }
      const summary = JSON.parse(run.stdout) as { folders: Array<{ copied: number }> };
      const batches = summary.folders.filter((f) => f.copied > 0).length;
      expect(appends).toBe(summary.folders.reduce((a, f) => a + f.copied, 0));
      expect(appends).toBeGreaterThan(2 * batches);
      expect(rounds, `${appends} APPENDs in ${batches} folders of one batch each`).toBeLessThanOrEqual(batches);
      await expectCopiedExactly('single');
    } finally {
      await proxy.close();
    }
  });

  it('ends its connections after saying LOGOUT, without waiting a round trip for the answer', async () => {
    // A server that never answers LOGOUT: imapflow alone would wait 10 s for it, per connection pool.
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, { injections: [{ match: /^\S+ LOGOUT\r\n/, reply: () => '' }] });
    try {
      const started = Date.now();
      const run = await runCli(['backup', '--from', `imap://src@${server.host}:${proxy.port}`, '--to', join(work, 'logout-backup'), '--connections', '2', '--json'], env);
      const elapsed = Date.now() - started;
      expect(run.code, run.stderr).toBe(0);
      const loggedOut = proxy.log.filter((l) => / LOGOUT with $/.test(l)).length;
      expect(loggedOut).toBe(proxy.connections());
      expect(elapsed).toBeLessThan(8_000);
    } finally {
      await proxy.close();
    }
  });
});

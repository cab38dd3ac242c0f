// What one IMAP connection says between the greeting and its first folder command, against a real
// Dovecot 2.3 (which advertises SASL-IR and answers ID with its name alone): each round trip there
// is 0.1 s of every run at 100 ms RTT.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { startFaultProxy, type FaultProxy } from './support/imap-fault-proxy.js';
import { runCli } from './support/cli.js';

const CANARY = 'pw-Canary-5c1f';
let server: DovecotServer;
let noSaslIr: FaultProxy;
const work = mkdtempSync(join(tmpdir(), 'mf-login-'));
const env = { MAILFERRY_FROM_PASSWORD: CANARY, MAILFERRY_TO_PASSWORD: CANARY };

/** The canary as it could leak: itself, or in the base64 of a SASL PLAIN payload (its first 18 bytes, which hold 13 of the canary's). */
function leaks(text: string): boolean {
  const payloads = ['src', 'dst'].map((user) => Buffer.from(`\x00${user}\x00${CANARY}`).toString('base64').slice(0, 24));
  return [CANARY, ...payloads].some((f) => text.includes(f));
}

/** A migration with a `--debug` log; resolves to the log's lines, and stdout + stderr. */
async function migrateLogged(name: string, port: number): Promise<{ lines: string[]; output: string }> {
  const log = join(work, `${name}.jsonl`);
  const url = (user: string) => `imap://${user}@${server.host}:${port}`;
  const run = await runCli(['migrate', '--from', url('src'), '--to', url('dst'), '--state', join(work, `${name}.sqlite`), '--debug', '--log-file', log], env);
  expect(run.code, run.stderr).toBe(0);
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { message?: string }).message ?? '');
  return { lines, output: run.stdout + run.stderr };
}

/** Each connection's IMAP lines up to its first command after logging in (NAMESPACE), without the greeting. */
function logins(lines: string[]): string[][] {
  const byConnection = new Map<string, string[]>();
  for (const line of lines) {
    const m = /^imap \S+ (\S+) debug: (.*)$/.exec(line);
    if (!m) continue;
    const said = byConnection.get(m[1]!) ?? [];
    byConnection.set(m[1]!, [...said, m[2]!]);
  }
  return [...byConnection.values()].map((said) => {
    const end = said.findIndex((l) => /^\S+ NAMESPACE$/.test(l));
    expect(end, 'every connection reaches NAMESPACE').toBeGreaterThan(0);
    return said.slice(1, end);
  });
}

/** The commands and continuation requests in a login, by name (`ID`, `AUTHENTICATE PLAIN`, `+`). */
const steps = (login: string[]): string[] =>
  login.flatMap((l) => {
    if (l.startsWith('+')) return ['+'];
    const command = /^[A-Za-z0-9.]+ (ID|AUTHENTICATE \S+|LOGIN|CAPABILITY)\b/.exec(l)?.[1];
    return command === undefined ? [] : [command];
  });

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'dst', 'dst2'].map((name) => ({ name, password: CANARY })) });
  noSaslIr = await startFaultProxy({ host: server.host, port: server.port }, { hideCapabilities: ['SASL-IR'] });
  const opts = { seed: 17, messages: 12, folders: 3 };
  await seedAccount({ host: server.host, port: server.port, user: 'src', password: CANARY }, generateCorpus(opts), { folders: corpusFolders(opts) });
}, 120_000);

afterAll(async () => {
  await noSaslIr?.close();
  await server?.stop();
});

describe('logging in to a server that offers SASL-IR', () => {
  it('is ID, then one AUTHENTICATE PLAIN carrying its payload (no "+" continuation) sent before ID is answered (one round trip for both), and no second ID', async () => {
    const { lines, output } = await migrateLogged('sasl-ir', server.port);
    expect(leaks(lines.join('\n')), 'the password (or a payload carrying it) is in the --debug log').toBe(false);
    expect(leaks(output)).toBe(false);
    const all = logins(lines);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const login of all) {
      expect(steps(login)).toEqual(['ID', 'AUTHENTICATE PLAIN']);
      expect(login.find((l) => / AUTHENTICATE PLAIN/.test(l))).toMatch(/^\S+ AUTHENTICATE PLAIN "\(\* value hidden \*\)"$/);
      const idTag = /^(\S+) ID /.exec(login.find((l) => /^\S+ ID /.test(l))!)![1];
      const answered = login.findIndex((l) => l.startsWith(`${idTag} OK`));
      expect(answered, 'ID was answered').toBeGreaterThan(0);
      expect(login.findIndex((l) => / AUTHENTICATE PLAIN/.test(l)), 'AUTHENTICATE waited for the answer to ID').toBeLessThan(answered);
    }
  });

  it('then asks NAMESPACE and ENABLE in one round trip: ENABLE is sent before NAMESPACE is answered (a server without COMPRESS)', () => {
    const byConnection = new Map<string, string[]>();
    for (const line of readFileSync(join(work, 'sasl-ir.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { message?: string }).message ?? '')) {
      const m = /^imap \S+ (\S+) debug: (.*)$/.exec(line);
      if (m) byConnection.set(m[1]!, [...(byConnection.get(m[1]!) ?? []), m[2]!]);
    }
    expect(byConnection.size).toBeGreaterThanOrEqual(2);
    for (const said of byConnection.values()) {
      const nsTag = /^(\S+) NAMESPACE$/.exec(said.find((l) => /^\S+ NAMESPACE$/.test(l))!)![1];
      const enable = said.findIndex((l) => /^\S+ ENABLE CONDSTORE\b/.test(l));
      expect(enable, 'ENABLE was sent').toBeGreaterThan(0);
      expect(enable, 'ENABLE waited for the answer to NAMESPACE').toBeLessThan(said.findIndex((l) => l.startsWith(`${nsTag} OK`)));
      expect(said.filter((l) => /^\S+ ENABLE /.test(l)), 'ENABLE was sent twice').toHaveLength(1);
      expect(said.some((l) => /^\* ENABLED CONDSTORE/.test(l)), 'the server enabled CONDSTORE').toBe(true);
    }
  });

  it('a wrong password is still the one-line authentication error, exit 3, tried once, and the password is in no log', async () => {
    const log = join(work, 'refused.jsonl');
    const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
    const run = await runCli(['migrate', '--from', url('src'), '--to', url('dst'), '--state', join(work, 'refused.sqlite'), '--debug', '--log-file', log], {
      MAILFERRY_FROM_PASSWORD: `${CANARY}-wrong`,
      MAILFERRY_TO_PASSWORD: CANARY,
    });
    expect(run.code).toBe(3);
    // (--debug adds the stack as a `debug:` entry, as before)
    expect(run.stderr.split('\n').filter((l) => /^(error|warning):/.test(l))).toEqual([expect.stringMatching(/^error: cannot log in to imap:\/\/src@127\.0\.0\.1:\d+: authentication failed$/)]);
    const text = readFileSync(log, 'utf8');
    const messages = text.trim().split('\n').map((l) => (JSON.parse(l) as { message?: string }).message ?? '');
    expect(leaks(text + run.stdout + run.stderr), 'the password (or a payload carrying it) is in a log').toBe(false);
    expect(messages.some((m) => / AUTHENTICATE PLAIN "\(\* value hidden \*\)"$/.test(m)), 'the refused login took the SASL-IR path').toBe(true);
    // A first run opens its other connections once a login went through: the refused one is tried once.
    expect(messages.filter((m) => m.startsWith(`imap ${url('src')} `) && / AUTHENTICATE /.test(m))).toHaveLength(1);
  });
});

describe('logging in to a server without SASL-IR', () => {
  it("is imapflow's AUTHENTICATE PLAIN, its payload after the \"+\", still with one ID", async () => {
    const { lines, output } = await migrateLogged('no-sasl-ir', noSaslIr.port);
    for (const login of logins(lines)) expect(steps(login)).toEqual(['ID', 'AUTHENTICATE PLAIN', '+']);
    expect(leaks(lines.join('\n') + output)).toBe(false);
  });
});

describe('a connection opened ahead of time and still logging in when the run ends', () => {
  it('logs in fully before the run ends (its log has the whole login), instead of being cut off with the log closed', async () => {
    // The source's second login is answered 1.5 s late; the copy itself needs one connection only.
    const slow = await startFaultProxy({ host: server.host, port: server.port }, { stall: { match: /^\S+ AUTHENTICATE /, nth: 2, afterBytes: 0, seconds: 1.5 } });
    try {
      const log = join(work, 'ahead.jsonl');
      const url = (user: string, port: number) => `imap://${user}@${server.host}:${port}`;
      const run = await runCli(['migrate', '--from', url('src', slow.port), '--to', url('dst2', server.port), '--state', join(work, 'ahead.sqlite'), '--connections', '2', '--debug', '--log-file', log], env);
      expect(run.code, run.stderr).toBe(0);
      expect(slow.log).toContain('stall on connection 2');
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { message?: string }).message ?? '');
      expect(logins(lines.filter((l) => l.startsWith(`imap ${url('src', slow.port)} `))).length).toBe(2);
    } finally {
      await slow.close();
    }
  });
});

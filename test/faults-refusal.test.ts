import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli, type CliRun } from './support/cli.js';
import { startFaultProxy, type FaultPlan, type Injection } from './support/imap-fault-proxy.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';

const PASSWORD = 'pw-FaultRefusal-8';
const USERS = ['src', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9', 'd10'];
const work = mkdtempSync(path.join(tmpdir(), 'mf-faults-refusal-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: path.join(work, 'state') };
let server: DovecotServer;
let source: Snapshot;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string, port = server.port) => `imap://${user}@${server.host}:${port}`;

beforeAll(async () => {
  server = await startDovecot({ users: USERS.map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 23, messages: 120, folders: 6, maxSize: 100_000 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  source = await snapshotAccount(addr('src'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

const migrateArgs = (dest: string, port: number, connections: number, json: boolean) =>
  ['migrate', '--from', url('src', port), '--to', url(dest, port), '--state', path.join(work, `${dest}.sqlite`), '--connections', String(connections), ...(json ? ['--json'] : [])];

/**
 * Migrates src into `dest` with both sides through a proxy following `plan`; then, if that run
 * did not finish, reruns it (the plan's faults are made once, so the rerun meets none). Returns
 * both runs and what the proxy did.
 */
async function migrateThrough(dest: string, plan: FaultPlan, connections = 2, json = true): Promise<{ first: CliRun; rerun?: CliRun; log: string[] }> {
  const proxy = await startFaultProxy({ host: server.host, port: server.port }, plan);
  try {
    const first = await runCli(migrateArgs(dest, proxy.port, connections, json), env);
    const rerun = first.code === 0 ? undefined : await runCli(migrateArgs(dest, proxy.port, connections, json), env);
    return { first, rerun, log: [...proxy.log] };
  } finally {
    await proxy.close();
  }
}

/** The answer `line` (after the tag) to the nth command matching `match`. */
const answer = (match: RegExp, nth: number, line: string): Injection => ({ match, nth, reply: (tag) => `${tag} ${line}\r\n` });
const APPEND = /^\S+ APPEND /;
const LOGIN = /^\S+ (LOGIN|AUTHENTICATE) /;
const OPEN = /^\S+ (SELECT|EXAMINE) /;

/**
 * The first APPEND (a batch, MULTIAPPEND) refused, then the first message mailferry sends on its
 * own to learn which one is refused: that one fails. One connection, so no other folder's batch
 * comes in between. (Each injection counts only the commands the ones before it let through.)
 */
const refuseBatchThenOne = (line: string): Injection[] => [answer(APPEND, 1, line), answer(APPEND, 1, line)];

/** The error output is lines of their own, never a stack trace or an internal error. */
function expectPlainErrors(run: CliRun): void {
  expect(run.stderr).not.toMatch(/internal error|please report|\n\s+at \S+ \(|Error: /);
}

function reconnects(run: CliRun): number {
  return (JSON.parse(run.stdout) as { reconnects: number }).reconnects;
}

async function expectEqual(dest: string): Promise<void> {
  const diff = diffSnapshots(source, await snapshotAccount(addr(dest)));
  expect(diff.details).toEqual([]);
  expect(diff.duplicates).toBe(0);
}

describe('server refusals and drops: the documented exit code and a line, then a rerun completes without duplicates', () => {
  it('a BYE in answer to a FETCH in the middle of a folder: the run reconnects and finishes by itself', async () => {
    const bye: Injection = { match: /^\S+ UID FETCH .*BODY\.PEEK\[\]/, nth: 2, reply: () => '* BYE Server shutting down\r\n' };
    const { first, log } = await migrateThrough('d1', { injections: [bye] });
    expect(log.join()).toMatch(/with \* BYE Server shutting down/);
    expect(first.code, first.stderr).toBe(0);
    expect(reconnects(first)).toBeGreaterThanOrEqual(1);
    expectPlainErrors(first);
    await expectEqual('d1');
  });

  it('NO [UNAVAILABLE] to the LOGIN: a temporary failure, not a refused password; the run logs in again by itself', async () => {
    const { first, log } = await migrateThrough('d2', { injections: [answer(LOGIN, 1, 'NO [UNAVAILABLE] Temporary authentication failure')] });
    expect(log).toHaveLength(1);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/temporarily unavailable.*retry 1 of/);
    expect(reconnects(first)).toBe(1);
    expectPlainErrors(first);
    await expectEqual('d2');
  });

  it('NO [UNAVAILABLE] to a SELECT/EXAMINE: the folder is tried again, not reported as failed', async () => {
    const { first, log } = await migrateThrough('d3', { injections: [answer(OPEN, 3, 'NO [UNAVAILABLE] Mailbox is locked by another process')] });
    expect(log).toHaveLength(1);
    expect(first.code, first.stderr).toBe(0);
    expect(reconnects(first)).toBe(1);
    expectPlainErrors(first);
    await expectEqual('d3');
  });

  it('NO [LIMIT] to an APPEND: the message fails (exit 1, listed), a rerun copies it', async () => {
    const { first, rerun, log } = await migrateThrough('d4', { injections: refuseBatchThenOne('NO [LIMIT] Too many keywords') }, 1);
    expect(log).toHaveLength(2);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/^\S.* UID \d+: rejected: Too many keywords$/m);
    expect(JSON.parse(first.stdout).totals.failed).toBe(1);
    expectPlainErrors(first);
    expect(rerun?.code, rerun?.stderr).toBe(0);
    await expectEqual('d4');
  });

  it('NO [OVERQUOTA] to an APPEND: exit 5 with one line, a rerun (space freed) resumes', async () => {
    const { first, rerun, log } = await migrateThrough('d5', { injections: [answer(APPEND, 2, 'NO [OVERQUOTA] Quota exceeded (mailbox for user is full)')] });
    expect(log).toHaveLength(1);
    expect(first.code, first.stderr).toBe(5);
    expect(first.stderr).toMatch(/^error: imap:\/\/d5@127\.0\.0\.1:\d+ is full: Quota exceeded \(mailbox for user is full\)$/m);
    expectPlainErrors(first);
    expect(rerun?.code, rerun?.stderr).toBe(0);
    await expectEqual('d5');
  });

  it('NO [SERVERBUG] to an APPEND: the message fails (exit 1, listed), a rerun copies it', async () => {
    const { first, rerun, log } = await migrateThrough('d6', { injections: refuseBatchThenOne('NO [SERVERBUG] Internal error occurred') }, 1);
    expect(log).toHaveLength(2);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/ UID \d+: rejected: Internal error occurred$/m);
    expectPlainErrors(first);
    expect(rerun?.code, rerun?.stderr).toBe(0);
    await expectEqual('d6');
  });

  // Without MULTIAPPEND (as Exchange) but with LITERAL+, a batch's messages go as single APPENDs,
  // pipelined: those behind the refused one are already on their way.
  it('without MULTIAPPEND, NO [LIMIT] to one of the pipelined APPENDs: that message fails (exit 1, listed), the rest are copied, a rerun copies it', async () => {
    const { first, rerun, log } = await migrateThrough('d9', { hideCapabilities: ['MULTIAPPEND'], injections: [answer(APPEND, 3, 'NO [LIMIT] Too many keywords')] }, 1);
    expect(log).toHaveLength(1);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/^\S.* UID \d+: rejected: Too many keywords$/m);
    expect(JSON.parse(first.stdout).totals.failed).toBe(1);
    expectPlainErrors(first);
    expect(rerun?.code, rerun?.stderr).toBe(0);
    await expectEqual('d9');
  });

  it('without MULTIAPPEND, NO [OVERQUOTA] to one of the pipelined APPENDs: exit 5; a rerun settles those sent behind it without copying them twice', async () => {
    const { first, rerun, log } = await migrateThrough('d10', { hideCapabilities: ['MULTIAPPEND'], injections: [answer(APPEND, 3, 'NO [OVERQUOTA] Quota exceeded (mailbox for user is full)')] }, 1);
    expect(log).toHaveLength(1);
    expect(first.code, first.stderr).toBe(5);
    expectPlainErrors(first);
    expect(rerun?.code, rerun?.stderr).toBe(0);
    await expectEqual('d10');
  });

  it('connections refused for a few seconds at the start: the run connects again by itself', async () => {
    const { first, log } = await migrateThrough('d7', { refuseMs: 2500 });
    expect(log.join()).toMatch(/refusing connections for 2500 ms/);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/connecting: .*connection refused; retry 1 of 3/);
    expect(reconnects(first)).toBeGreaterThanOrEqual(1);
    expectPlainErrors(first);
    await expectEqual('d7');
  });

  it('the plain summary says how many reconnects there were', async () => {
    const { first } = await migrateThrough('d8', { refuseMs: 1500 }, 2, false);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^reconnects: [1-9]\d* \(broken connections re-opened by the run itself\)$/m);
    await expectEqual('d8');
  });
});

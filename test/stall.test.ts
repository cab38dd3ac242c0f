import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { runCli } from './support/cli.js';
import { startFaultProxy, type FaultPlan } from './support/imap-fault-proxy.js';

const PASSWORD = 'pw-Stall-3';
const work = mkdtempSync(join(tmpdir(), 'mf-stall-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: join(work, 'state') };
let server: DovecotServer;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const BODY_FETCH = /^\S+ UID FETCH \S+ \(.*BODY\.PEEK\[\]/;
/** Seconds of silence after which a connection under a command is dropped, in these tests. */
const TIMEOUT = 2;

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'd1'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 33, messages: 120, folders: 16, maxSize: 80_000 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

/** Runs mailferry with the source behind a proxy that stalls as `stall` says. */
async function throughStall(stall: FaultPlan['stall'], args: (from: string) => string[]) {
  const proxy = await startFaultProxy({ host: server.host, port: server.port }, { stall });
  try {
    const run = await runCli([...args(`imap://src@127.0.0.1:${proxy.port}`), '--timeout', String(TIMEOUT), '--json'], env);
    return { run, stallWaits: [...proxy.stallWaits], log: [...proxy.log] };
  } finally {
    await proxy.close();
  }
}

describe('a connection that goes silent in the middle of a command', () => {
  it('is dropped after --timeout seconds of silence and its folder retried: the migration completes, nothing lost or duplicated', async () => {
    const { run, stallWaits, log } = await throughStall({ match: BODY_FETCH, nth: 2, afterBytes: 20_000, seconds: Infinity }, (from) => [
      'migrate', '--from', from, '--to', `imap://d1@${server.host}:${server.port}`, '--state', join(work, 'd1.sqlite'),
    ]);
    expect(log).toEqual([expect.stringMatching(/^stall on connection \d+$/)]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/failed while fetching from .*: timed out \(nothing received for 2 s, --timeout\); retry 1 of 5/);
    // Detected by the silence, not by a later command: within the timeout (and scheduling slack).
    expect(stallWaits).toHaveLength(1);
    expect(stallWaits[0]).toBeGreaterThanOrEqual(TIMEOUT * 1000 - 100);
    expect(stallWaits[0]).toBeLessThan(TIMEOUT * 1000 + 2000);
    const diff = diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr('d1')));
    expect(diff.details).toEqual([]);
  });

  it('a nightly backup against a server that stalls every download for good ends with exit 4 and one error line, not a hang', async () => {
    const { run, stallWaits } = await throughStall({ match: BODY_FETCH, afterBytes: 5_000, seconds: Infinity }, (from) => [
      'backup', '--from', from, '--to', join(work, 'backup'), '--connections', '2',
    ]);
    expect(run.code).toBe(4);
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toEqual([expect.stringMatching(/^error: connection to imap:\/\/src@127\.0\.0\.1:\d+ failed while fetching from .*: timed out \(nothing received for 2 s, --timeout\)$/)]);
    expect(JSON.parse(run.stdout)).toMatchObject({ command: 'backup', exitCode: 4 });
    // Every stall was found within the timeout: 6 attempts each, none waited on for longer.
    expect(stallWaits.length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...stallWaits)).toBeLessThan(TIMEOUT * 1000 + 2000);
  });
});

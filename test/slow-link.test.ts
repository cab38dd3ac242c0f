import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { runCli, startCli } from './support/cli.js';
import { startSlowLink, type SlowLink } from './support/slow-link.js';

const PASSWORD = 'pw-SlowLink-4';
const work = mkdtempSync(join(tmpdir(), 'mf-slow-link-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: join(work, 'state') };
let server: DovecotServer;
/** 50 KB/s from the source server to mailferry, as a far server over a poor line gives. */
let link: SlowLink;
const RATE = 50_000;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const direct = (user: string) => `imap://${user}@${server.host}:${server.port}`;
const slow = (user: string) => `imap://${user}@${server.host}:${link.port}`;
const migrateArgs = (from: string, to: string, state: string, extra: string[] = []) => ['migrate', '--from', from, '--to', to, '--state', join(work, state), '--json', ...extra];

async function expectEqual(src: string, dest: string): Promise<void> {
  const diff = diffSnapshots(await snapshotAccount(addr(src)), await snapshotAccount(addr(dest)));
  expect(diff.details).toEqual([]);
  expect(diff.duplicates).toBe(0);
}

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'd1', 'big', 'd2'].map((name) => ({ name, password: PASSWORD })) });
  // A few small messages and one that takes 20 s (src) or 40 s (big) through the link.
  await seedAccount(addr('src'), generateCorpus({ seed: 41, messages: 3, bigMessages: [1_000_000] }));
  await seedAccount(addr('big'), generateCorpus({ seed: 42, messages: 2, bigMessages: [2_000_000] }));
  link = await startSlowLink({ host: server.host, port: server.port }, RATE, 'down');
}, 120_000);

afterAll(async () => {
  await link?.close();
  await server?.stop();
});

describe('a slow download link', () => {
  it('a 1 MB message at 50 KB/s with --timeout 5 is copied: the waiting destination connection is kept, no timeout fires while bytes flow', async () => {
    const run = await runCli(migrateArgs(slow('src'), direct('d1'), 'src-d1.sqlite', ['--timeout', '5']), env);
    expect(run.stderr).not.toMatch(/retry|timed out|not available/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).totals).toMatchObject({ copied: 4, failed: 0 });
    await expectEqual('src', 'd1');
  }, 240_000);

  it('SIGTERM in the middle of a 40 s download ends the run within seconds with exit 130 and a --json document; the rerun completes without duplicates', async () => {
    const before = link.bytes;
    const { child, done } = startCli(migrateArgs(slow('big'), direct('d2'), 'big-d2.sqlite'), env);
    while (link.bytes - before < 300_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    const signalled = Date.now();
    child.kill('SIGTERM');
    const run = await done;
    const waited = Date.now() - signalled;
    // The download had more than 30 s to go.
    expect(waited).toBeLessThan(10_000);
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/^error: interrupted/m);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ command: 'migrate', exitCode: 130, source: slow('big'), destination: direct('d2') });
    expect(doc.error).toMatch(/interrupted/);

    // The rerun through the same proxy (the checkpoint belongs to that account URL), at full speed.
    link.rate = undefined;
    try {
      const rerun = await runCli(migrateArgs(slow('big'), direct('d2'), 'big-d2.sqlite'), env);
      expect(rerun.code).toBe(0);
    } finally {
      link.rate = RATE;
    }
    await expectEqual('big', 'd2');
  }, 240_000);
});

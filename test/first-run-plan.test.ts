import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../src/errors/exit-codes.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli } from './support/cli.js';
import { startSlowLink, type SlowLink } from './support/slow-link.js';

const PASSWORD = 'pw-FirstRun-7';
const work = mkdtempSync(join(tmpdir(), 'mf-first-run-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: join(work, 'state') };
let server: DovecotServer;
/** 100 KB/s from the server to mailferry: the copy of `src` takes several seconds. */
let link: SlowLink;
const url = (user: string, port = server.port) => `imap://${user}@${server.host}:${port}`;
const migrate = (from: string, to: string, state: string, extra: string[] = []) =>
  runCli(['migrate', '--from', from, '--to', to, '--state', join(work, state), ...extra], env);

beforeAll(async () => {
  server = await startDovecot({
    users: [
      { name: 'src', password: PASSWORD },
      // 100 KiB: less than src's mail.
      { name: 'small', password: PASSWORD, extra: 'userdb_quota_rule=*:storage=100K' },
      { name: 'small-json', password: PASSWORD, extra: 'userdb_quota_rule=*:storage=100K' },
      { name: 'roomy', password: PASSWORD },
      { name: 'again', password: PASSWORD },
    ],
  });
  const opts = { seed: 15, messages: 40, maxSize: 60_000, folders: 4 };
  await seedAccount({ host: server.host, port: server.port, user: 'src', password: PASSWORD }, generateCorpus(opts), { folders: corpusFolders(opts) });
  link = await startSlowLink({ host: server.host, port: server.port }, 100_000, 'down');
}, 120_000);

afterAll(async () => {
  await link?.close();
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('a first run says what it will do before it copies', () => {
  it('folders, messages and bytes after the filters as a dry run counts them, the free quota, and a warning when the mail exceeds it; the rerun tells no plan', async () => {
    const filter = ['--max-size', '20000'];
    const dry = await migrate(url('src'), url('small'), 'small.sqlite', ['--dry-run', '--json', ...filter]);
    expect(dry.code, dry.stderr).toBe(0);
    const expected = JSON.parse(dry.stdout).totals;
    expect(expected.skipped).toBeGreaterThan(0);
    expect(expected.bytes).toBeGreaterThan(100 * 1024);

    const first = await migrate(url('src'), url('small'), 'small.sqlite', filter);
    expect(first.code).toBe(EXIT_CODES.quota.status);
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    expect(first.stderr).toContain(
      `first run (no checkpoint yet): ${expected.folders} folders, ${expected.copied} messages to copy, ${mb(expected.bytes)} at the source (${expected.skipped} left out by the filters)\n` +
        'destination quota: 0.1 MB free of 0.1 MB\n' +
        `warning: the ${mb(expected.bytes)} to copy exceed the destination's free quota (0.1 MB): the run will stop when the destination is full\n`,
    );
    // Told before the first message was copied: nothing of the run precedes it.
    expect(first.stderr.indexOf('first run')).toBe(0);

    const rerun = await migrate(url('src'), url('small'), 'small.sqlite', filter);
    expect(rerun.code).toBe(EXIT_CODES.quota.status);
    expect(rerun.stderr).not.toContain('first run');
    expect(rerun.stderr).not.toContain('destination quota');
  }, 120_000);

  it('--json: the plan is in the summary (also of a run that fails), stderr has only the warning; a rerun has no plan', async () => {
    const dry = JSON.parse((await migrate(url('src'), url('small-json'), 'small-json.sqlite', ['--dry-run', '--json'])).stdout).totals;
    const first = await migrate(url('src'), url('small-json'), 'small-json.sqlite', ['--json']);
    expect(first.code).toBe(EXIT_CODES.quota.status);
    const quota = { limitBytes: 100 * 1024, usedBytes: 0, freeBytes: 100 * 1024 };
    expect(JSON.parse(first.stdout).plan).toEqual({ folders: dry.folders, messages: dry.copied, bytes: dry.bytes, skipped: 0, quota, overQuota: true });
    expect(first.stderr).toMatch(/^warning: the .* MB to copy exceed the destination's free quota \(0\.1 MB\)/);
    expect(first.stderr).not.toContain('first run');

    const rerun = await migrate(url('src'), url('small-json'), 'small-json.sqlite', ['--json']);
    expect(JSON.parse(rerun.stdout).plan).toBeUndefined();
  }, 120_000);

  it('--quiet prints no plan, but still the quota warning', async () => {
    const run = await migrate(url('src'), url('small'), 'quiet.sqlite', ['--quiet']);
    expect(run.code).toBe(EXIT_CODES.quota.status);
    expect(run.stderr).not.toContain('first run');
    expect(run.stderr).toMatch(/^warning: the .* MB to copy exceed the destination's free quota/);
  }, 120_000);

  it("a slow first run prints one ETA line once its first minute (shortened here) has passed, from that minute's rate, saying which rate; a rerun prints none", async () => {
    const first = await migrate(url('src', link.port), url('roomy'), 'roomy.sqlite', ['--eta-after-ms', '1500']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('destination quota: 10737.4 MB free of 10737.4 MB\n');
    expect(first.stdout).toMatch(/^migrate: \d+ copied/m);
    const etas = first.stderr.split('\n').filter((l) => l.startsWith('ETA'));
    expect(etas).toHaveLength(1);
    expect(etas[0]).toMatch(/^ETA: (\d+\.\d|\d+) s left, from the rate of the first 1\.5 s \(\d+\.\d MB\/s, \d+\.\d msg\/s\) by (bytes|messages), which held steadier$/);

    const rerun = await migrate(url('src', link.port), url('roomy'), 'roomy.sqlite', ['--eta-after-ms', '1']);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).not.toMatch(/first run|ETA/);
  }, 120_000);

  it('a first backup tells its plan too, without a quota (a directory has none)', async () => {
    const json = await runCli(['backup', '--from', url('src'), '--to', join(work, 'backup-json'), '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    const t = JSON.parse(json.stdout).totals;
    expect(JSON.parse(json.stdout).plan).toEqual({ folders: t.folders, messages: t.copied, bytes: t.bytes, skipped: 0, overQuota: false });
    expect(json.stderr).toBe('');
    const run = await runCli(['backup', '--from', url('src'), '--to', join(work, 'backup')], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`^first run \\(no checkpoint yet\\): ${t.folders} folders, ${t.copied} messages to copy, ${(t.bytes / 1e6).toFixed(1)} MB at the source\n`));
    expect(run.stderr).not.toContain('quota');
  }, 120_000);
});

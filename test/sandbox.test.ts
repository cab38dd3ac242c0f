import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './support/cli.js';

const work = mkdtempSync(join(tmpdir(), 'mf-sandbox-'));

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function until(condition: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('mailferry sandbox', () => {
  it('prints both ports, imap:// and imaps://, and the imaps:// URLs work with the printed CA', async () => {
    const envFile = join(work, 'env');
    const sandbox = startCli(['sandbox', '--messages', '12', '--env-out', envFile]);
    try {
      await until(() => existsSync(envFile), 60_000);
      const vars = Object.fromEntries([...readFileSync(envFile, 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
      expect(vars.MAILFERRY_SANDBOX_FROM_TLS).toMatch(/^imaps:\/\/alice@127\.0\.0\.1:\d+$/);
      expect(vars.MAILFERRY_SANDBOX_TO_TLS).toMatch(/^imaps:\/\/bob@127\.0\.0\.1:\d+$/);
      const run = await runCli(
        ['migrate', '--from', vars.MAILFERRY_SANDBOX_FROM_TLS!, '--to', vars.MAILFERRY_SANDBOX_TO_TLS!, '--from-ca', vars.MAILFERRY_SANDBOX_CA!, '--to-ca', vars.MAILFERRY_SANDBOX_CA!, '--state', join(work, 'state.sqlite'), '--json'],
        { MAILFERRY_FROM_PASSWORD: vars.MAILFERRY_FROM_PASSWORD, MAILFERRY_TO_PASSWORD: vars.MAILFERRY_TO_PASSWORD },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).totals.copied).toBe(12);
    } finally {
      sandbox.child.kill('SIGINT');
    }
    const done = await sandbox.done;
    const tlsPort = /imaps:\/\/alice@127\.0\.0\.1:(\d+)/.exec(readFileSync(envFile, 'utf8'))![1];
    expect(done.stdout).toContain(`imaps:// on port ${tlsPort}`);
    expect(done.stdout).toContain(`imaps://alice@127.0.0.1:${tlsPort}`);
  });
});

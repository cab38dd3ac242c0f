import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { runCli, type CliRun } from './support/cli.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { walk } from './support/backup-snapshot.js';

/**
 * A checkpoint or a backup directory reached through another port, scheme or address of the same
 * server is the same account's: accepted with a notice, and nothing is copied twice. Another user
 * is refused. Dovecot listens on imap:// (STARTTLS) and imaps://; its certificate names localhost
 * and 127.0.0.1.
 */

const PASSWORD = 'pw-SameAccount-5';
let server: DovecotServer;
const work = mkdtempSync(join(tmpdir(), 'mf-same-account-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });

/** The three ways this test reaches the one server. */
const ways = {
  plain: (user: string) => `imap://${user}@127.0.0.1:${server.port}`,
  tls: (user: string) => `imaps://${user}@localhost:${server.tlsPort}`,
  byName: (user: string) => `imap://${user}@localhost:${server.port}`,
};

function migrate(from: string, to: string, extra: string[] = []): Promise<CliRun> {
  return runCli(['migrate', '--from', from, '--to', to, '--from-ca', server.caFile, '--to-ca', server.caFile, '--state', join(work, 'migrate.sqlite'), '--json', ...extra], env);
}

function backup(from: string): Promise<CliRun> {
  return runCli(['backup', '--from', from, '--from-ca', server.caFile, '--to', join(work, 'backup'), '--json'], env);
}

async function expectSameAccounts(a: string, b: string): Promise<void> {
  const diff = diffSnapshots(await snapshotAccount(addr(a)), await snapshotAccount(addr(b)));
  expect(diff.details).toEqual([]);
  expect(diff.equal).toBe(true);
}

async function messageFiles(): Promise<number> {
  return (await walk(join(work, 'backup', 'Maildir'))).filter((e) => e.type === 'file' && /\/(cur|new)\/[^/]+$/.test(e.path)).length;
}

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'dst', 'other'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 51, messages: 150, folders: 6 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  await seedAccount(addr('other'), generateCorpus({ seed: 52, messages: 10 }));
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('a migrate checkpoint reached another way', () => {
  it('is accepted with a notice, through imaps:// on another port and by name instead of address, and copies nothing twice', async () => {
    const first = await migrate(ways.plain('src'), ways.plain('dst'));
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).totals.copied).toBe(150);

    for (const way of [ways.tls, ways.byName]) {
      const again = await migrate(way('src'), way('dst'));
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/warning: checkpoint .* was made for imap:\/\/src@127\.0\.0\.1:\d+; using it for imap(s)?:\/\/src@localhost:\d+, the same user/);
      expect(again.stderr).toMatch(/was made for imap:\/\/dst@127\.0\.0\.1:\d+; using it for imap(s)?:\/\/dst@localhost:\d+/);
      expect(JSON.parse(again.stdout).totals).toMatchObject({ copied: 0, failed: 0 });
    }
    await expectSameAccounts('src', 'dst');

    // The checkpoint still works as one: a new message is the only one copied.
    const client = await connectPlain(addr('src'));
    await client.append('INBOX', 'From: a@example.com\r\nSubject: later\r\nMessage-ID: <later@example.com>\r\n\r\nlater\r\n', ['\\Seen']);
    await client.logout();
    const later = await migrate(ways.tls('src'), ways.plain('dst'));
    expect(later.code, later.stderr).toBe(0);
    expect(JSON.parse(later.stdout).totals.copied).toBe(1);
    await expectSameAccounts('src', 'dst');
  });

  it('is refused with exit 2 for a different user', async () => {
    const run = await migrate(ways.tls('other'), ways.plain('dst'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: checkpoint .* belongs to imap:\/\/src@127\.0\.0\.1:\d+ -> .*: a different user/);
  });
});

describe('a backup directory reached another way', () => {
  it('is accepted with a notice and gains no second copy of any message', async () => {
    const first = await backup(ways.plain('src'));
    expect(first.code, first.stderr).toBe(0);
    const files = await messageFiles();
    expect(files).toBe(151);

    const again = await backup(ways.tls('src'));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/warning: backup .* was made for imap:\/\/src@127\.0\.0\.1:\d+; using it for imaps:\/\/src@localhost:\d+/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(again.stdout).totals).toMatchObject({ copied: 0, failed: 0 });
    expect(await messageFiles()).toBe(files);
  });

  it('is refused with exit 2 for a different user', async () => {
    const run = await backup(ways.tls('other'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is a backup of imap:\/\/src@127\.0\.0\.1:\d+, not of imaps:\/\/other@localhost:\d+: a different user/);
  });
});

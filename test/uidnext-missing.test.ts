// Courier answers SELECT/EXAMINE without UIDNEXT (RFC 3501 allows it; its STATUS has it). A real
// Dovecot behind the fault proxy, which drops the `* OK [UIDNEXT n]` lines, answers the same way.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { snapshotBackup } from './support/backup-snapshot.js';
import { runCli } from './support/cli.js';
import { startFaultProxy, type FaultProxy } from './support/imap-fault-proxy.js';

const PASSWORD = 'pw-Uidnext-5';
const MESSAGES = 150;
const work = mkdtempSync(join(tmpdir(), 'mf-uidnext-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
let server: DovecotServer;
let proxy: FaultProxy;
let noStatus: FaultProxy;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
/** Through the proxy: plaintext on loopback, SELECT and EXAMINE without UIDNEXT. */
const viaProxy = (user: string) => `imap://${user}@127.0.0.1:${proxy.port}`;

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'dst', 'dst2'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 55, messages: MESSAGES, folders: 6 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  proxy = await startFaultProxy({ host: server.host, port: server.port }, { dropLines: /^\* OK \[UIDNEXT \d+\]/ });
  // Neither SELECT nor STATUS says UIDNEXT: only the messages' own UIDs tell.
  noStatus = await startFaultProxy({ host: server.host, port: server.port }, { dropLines: /^\* (OK \[UIDNEXT \d+\]|STATUS )/ });
}, 120_000);

afterAll(async () => {
  await noStatus?.close();
  await proxy?.close();
  await server?.stop();
});

describe('a server whose SELECT/EXAMINE carries no UIDNEXT, on either side', () => {
  it('migrate copies everything, the oracle is equal, and a rerun copies 0', async () => {
    const args = ['migrate', '--from', viaProxy('src'), '--to', viaProxy('dst'), '--state', join(work, 'migrate.sqlite'), '--json'];
    const first = await runCli(args, env);
    expect(first.stderr).not.toMatch(/internal error/);
    expect(first.code).toBe(0);
    expect(proxy.log.some((l) => l.startsWith('dropped'))).toBe(true);
    expect(JSON.parse(first.stdout).totals).toMatchObject({ copied: MESSAGES, failed: 0 });
    expect(diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr('dst'))).details).toEqual([]);

    const again = await runCli(args, env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).totals).toMatchObject({ copied: 0, failed: 0 });
  });

  it('with no UIDNEXT from STATUS either, the highest UID + 1 serves: migrate copies everything once, a rerun 0', async () => {
    const args = ['migrate', '--from', `imap://src@127.0.0.1:${noStatus.port}`, '--to', `imap://dst2@127.0.0.1:${noStatus.port}`, '--state', join(work, 'no-status.sqlite'), '--json'];
    const first = await runCli(args, env);
    expect(first.stderr).not.toMatch(/internal error/);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).totals).toMatchObject({ copied: MESSAGES, failed: 0 });
    expect(diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr('dst2'))).details).toEqual([]);

    const again = await runCli(args, env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).totals).toMatchObject({ copied: 0, failed: 0 });
  });

  it('backup copies everything into a Maildir equal to the account, and a rerun copies 0', async () => {
    const to = join(work, 'backup');
    const args = ['backup', '--from', viaProxy('src'), '--to', to, '--json'];
    const first = await runCli(args, env);
    expect(first.stderr).not.toMatch(/internal error/);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).totals).toMatchObject({ copied: MESSAGES, failed: 0 });
    expect(diffSnapshots(await snapshotAccount(addr('src')), await snapshotBackup(to)).details).toEqual([]);

    const again = await runCli(args, env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).totals).toMatchObject({ copied: 0, failed: 0 });
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { runCli, startCli } from './support/cli.js';
import { startFaultProxy } from './support/imap-fault-proxy.js';
import { startSlowLink } from './support/slow-link.js';

const PASSWORD = 'pw-RunFailures-9';
const work = mkdtempSync(join(tmpdir(), 'mf-run-failures-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: join(work, 'state') };
/** Courier-style namespace: folders are named `INBOX.x`, so a name as sent differs from the source's components. */
let server: DovecotServer;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string, port = server.port) => `imap://${user}@${server.host}:${port}`;
const migrateArgs = (to: string, state: string, extra: string[] = []) => ['migrate', '--from', url('src'), '--to', to, '--state', join(work, state), '--json', ...extra];

async function expectEqual(dest: string): Promise<void> {
  const diff = diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr(dest)));
  expect(diff.details).toEqual([]);
  expect(diff.duplicates).toBe(0);
}

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'q1', 'n1', 'l1', 'l2'].map((name) => ({ name, password: PASSWORD })), layout: 'maildir++', prefix: 'INBOX.' });
  const opts = { seed: 91, messages: 80, folders: 16, maxSize: 60_000 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  const c = await connectPlain(addr('src'));
  try {
    await c.mailboxCreate('INBOX.back\\slash');
    await c.append('INBOX.back\\slash', Buffer.from('Subject: back\r\n\r\nslash\r\n'));
  } finally {
    await c.logout();
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('--json when the run fails: the summary document, with the exit code and the error line', () => {
  it('exit 3: the login is refused', async () => {
    const run = await runCli(migrateArgs(url('q1'), 'auth.sqlite'), { ...env, MAILFERRY_TO_PASSWORD: 'wrong' });
    expect(run.code).toBe(3);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ command: 'migrate', exitCode: 3, source: url('src'), destination: url('q1'), folders: [] });
    expect(doc.error).toMatch(/^cannot log in to imap:\/\/q1@.*: authentication failed$/);
    expect(run.stderr).toContain(`error: ${doc.error}`);
  });

  it('exit 4: nothing listens at the destination', async () => {
    const closed = await startFaultProxy({ host: server.host, port: server.port }, {});
    const port = closed.port;
    await closed.close();
    const run = await runCli(migrateArgs(url('q1', port), 'conn.sqlite'), env);
    expect(run.code).toBe(4);
    expect(JSON.parse(run.stdout)).toMatchObject({ exitCode: 4, error: expect.stringMatching(/connection refused/) });
  });

  it('exit 5: the destination is full after a first folder; that folder is in the document', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, {
      injections: [{ match: /^\S+ APPEND /, nth: 2, reply: (tag) => `${tag} NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n` }],
    });
    try {
      const run = await runCli(migrateArgs(url('q1', proxy.port), 'quota.sqlite', ['--connections', '1']), env);
      expect(run.code).toBe(5);
      const doc = JSON.parse(run.stdout);
      expect(doc).toMatchObject({ exitCode: 5, error: expect.stringMatching(/is full: Quota exceeded/) });
      expect(doc.totals.copied).toBeGreaterThan(0);
      expect(doc.folders.some((f: { copied: number }) => f.copied > 0)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

describe('a folder the destination refuses to create', () => {
  it('is reported under the name the CREATE sent, not the source-side name', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, {
      // Every time, as a server refuses a name it cannot hold (a first run asks early, then again in the folder's turn).
      injections: [{ match: /^\S+ CREATE .*back/, reply: (tag) => `${tag} NO [CANNOT] Invalid mailbox name\r\n` }],
    });
    try {
      const run = await runCli(migrateArgs(url('n1', proxy.port), 'names.sqlite'), env);
      expect(proxy.log.join('\n')).toContain('CREATE "INBOX.back\\\\slash"');
      expect(run.code).toBe(1);
      const refused = JSON.parse(run.stdout).folders.filter((f: { error?: string }) => f.error);
      expect(refused).toEqual([expect.objectContaining({ source: 'INBOX.back\\slash', destination: 'INBOX.back\\slash' })]);
      expect(refused[0].error).toMatch(/refused creating folder INBOX\.back\\slash: Invalid mailbox name/);
    } finally {
      await proxy.close();
    }
  });
});

describe('one run at a time into a destination account, whatever --state each uses', () => {
  it('a second run with another checkpoint is refused at once while the first runs (which is unharmed); --allow-concurrent runs anyway', async () => {
    // Slow uploads keep the first run going for a while.
    const link = await startSlowLink({ host: server.host, port: server.port }, 300_000, 'up');
    try {
      // The concurrent run below takes the one folder this one leaves out: between them, no duplicates.
      const first = startCli(migrateArgs(url('l1', link.port), 'l1-a.sqlite', ['--exclude', 'back']), env);
      while (link.bytes < 200_000 && first.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const second = await runCli(migrateArgs(url('l1', link.port), 'l1-b.sqlite'), env);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/^error: imap:\/\/l1@.* is being written by process \d+ on .* \(checkpoint .*l1-a\.sqlite\); .* give --allow-concurrent$/m);
      const allowed = await runCli(migrateArgs(url('l1', link.port), 'l1-c.sqlite', ['--allow-concurrent', '--folder', 'INBOX.back\\slash']), env);
      expect(allowed.stderr).not.toMatch(/being written/);
      expect(allowed.code).toBe(0);
      const run = await first.done;
      expect(run.code).toBe(0);
      await expectEqual('l1');
    } finally {
      await link.close();
    }
  });

  it('the lock of a run killed with kill -9 does not block the next run, and that run (another checkpoint) leaves no duplicate', async () => {
    const link = await startSlowLink({ host: server.host, port: server.port }, 300_000, 'up');
    try {
      const killed = startCli(migrateArgs(url('l2', link.port), 'l2-a.sqlite'), env);
      while (link.bytes < 200_000 && killed.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      killed.child.kill('SIGKILL');
      expect((await killed.done).signal).toBe('SIGKILL');
      link.rate = undefined;
      const next = await runCli(migrateArgs(url('l2', link.port), 'l2-b.sqlite'), env);
      expect(next.stderr).not.toMatch(/being written/);
      expect(next.code).toBe(0);
      await expectEqual('l2');
    } finally {
      await link.close();
    }
  });
});

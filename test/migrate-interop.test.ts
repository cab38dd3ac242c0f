import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { runCli, startCli } from './support/cli.js';
import { startFaultProxy } from './support/imap-fault-proxy.js';

const PASSWORD = 'pw-Interop-7';
const work = mkdtempSync(join(tmpdir(), 'mf-interop-'));
let fsServer: DovecotServer; // separator '/', no prefix, English special-use names
let ppServer: DovecotServer; // Maildir++: separator '.', prefix 'INBOX.', localized special-use names

const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
const plainUrl = (s: DovecotServer, user: string) => `imap://${user}@${s.host}:${s.port}`;
const addr = (s: DovecotServer, user: string) => ({ host: s.host, port: s.port, user, password: PASSWORD });

function message(subject: string, bodyBytes = 200): Buffer {
  return Buffer.from(`From: a@example.org\r\nTo: b@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@t>\r\n\r\n${'x'.repeat(bodyBytes)}\r\n`);
}

async function withClient<T>(s: DovecotServer, user: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = new ImapFlow({ host: s.host, port: s.port, secure: false, doSTARTTLS: false, auth: { user, pass: PASSWORD }, logger: false });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}

/** Each server has its own test CA; `to` names the destination server. */
function migrate(from: string, to: DovecotServer, user: string, state: string, extra: string[] = []) {
  return runCli(['migrate', '--from', from, '--to', plainUrl(to, user), '--from-ca', fsServer.caFile, '--to-ca', to.caFile, '--state', join(work, state), '--json', ...extra], env);
}

beforeAll(async () => {
  [fsServer, ppServer] = await Promise.all([
    startDovecot({
      users: [
        { name: 'a', password: PASSWORD },
        { name: 'full', password: PASSWORD, extra: 'userdb_quota_rule=*:storage=30K' },
        { name: 'small', password: PASSWORD, extra: 'userdb_quota_max_mail_size=20K' },
      ],
    }),
    startDovecot({ users: [{ name: 'b', password: PASSWORD }], layout: 'maildir++', prefix: 'INBOX.', specialUseNames: { Sent: 'Gesendete Elemente', Trash: 'Papierkorb' } }),
  ]);
  await withClient(fsServer, 'a', async (c) => {
    for (const path of ['Work', 'Work/Projects', 'a.b', 'Hidden', 'Économie']) await c.mailboxCreate(path);
    await c.mailboxUnsubscribe('Hidden');
    const plan: Array<[string, number]> = [['INBOX', 4], ['Work/Projects', 3], ['a.b', 2], ['Hidden', 1], ['Économie', 2], ['Sent', 3], ['Trash', 1]];
    for (const [path, n] of plan) {
      for (let i = 0; i < n; i++) await c.append(path, message(`${path} ${i}`, i === 0 && path === 'INBOX' ? 50_000 : 300), i % 2 ? ['\\Seen', 'Project_X'] : [], new Date(Date.UTC(2019, i, 3)));
    }
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([fsServer?.stop(), ppServer?.stop()]);
});

describe('migrate between servers with different hierarchy, namespace and folder names', () => {
  it('translates delimiter and prefix, maps special-use folders by attribute, keeps subscriptions', async () => {
    const run = await migrate(plainUrl(fsServer, 'a'), ppServer, 'b', 'a-b.sqlite');
    expect(run.code).toBe(0);
    const byName = Object.fromEntries(JSON.parse(run.stdout).folders.map((f: { source: string; destination: string }) => [f.source, f.destination]));
    expect(byName).toMatchObject({
      INBOX: 'INBOX',
      'Work/Projects': 'INBOX.Work.Projects',
      'a.b': 'INBOX.a_b',
      Sent: 'INBOX.Gesendete Elemente',
      Trash: 'INBOX.Papierkorb',
      Économie: 'INBOX.Économie',
    });
    expect(run.stderr).toMatch(/a\.b: '\.' in a name is the destination's hierarchy delimiter/);

    // The oracle names folders with '/' between levels whatever the server's delimiter.
    const mapped: Record<string, string> = { ...byName };
    const diff = diffSnapshots(await snapshotAccount(addr(fsServer, 'a')), await snapshotAccount(addr(ppServer, 'b')), { folderMap: (f) => (mapped[f] ?? f).split('.').join('/') });
    expect(diff.details).toEqual([]);

    const subscribed = await withClient(ppServer, 'b', async (c) => (await c.list()).filter((f) => f.subscribed).map((f) => f.path));
    expect(subscribed).toContain('INBOX.Work.Projects');
    expect(subscribed).not.toContain('INBOX.Hidden');
  });
});

describe('a destination folder that appears between the listing and its CREATE', () => {
  it('is taken as created (ALREADYEXISTS): subscribed as the source folder is, and copied', async () => {
    await fsServer.addUser({ name: 'late', password: PASSWORD });
    // The answer to SUBSCRIBE Work is held back: Work/Projects, created after it, is made meanwhile by another client.
    const proxy = await startFaultProxy({ host: fsServer.host, port: fsServer.port }, { stall: { match: /^\S+ SUBSCRIBE Work\r\n/, afterBytes: 0, seconds: 1.5 } });
    try {
      const { done } = startCli(['migrate', '--from', plainUrl(fsServer, 'a'), '--to', `imap://late@${fsServer.host}:${proxy.port}`, '--state', join(work, 'late.sqlite'), '--json'], env);
      while (!proxy.log.some((l) => l.startsWith('stall on connection'))) await new Promise((r) => setTimeout(r, 20));
      // imapflow's mailboxCreate subscribes the folder: that is mailferry's to do.
      await withClient(fsServer, 'late', async (c) => {
        await c.mailboxCreate('Work/Projects');
        await c.mailboxUnsubscribe('Work/Projects');
      });
      const run = await done;
      expect(run.code, run.stderr).toBe(0);
    } finally {
      await proxy.close();
    }
    const subscribed = await withClient(fsServer, 'late', async (c) => (await c.list()).filter((f) => f.subscribed).map((f) => f.path));
    expect(subscribed).toContain('Work/Projects');
    const diff = diffSnapshots(await snapshotAccount(addr(fsServer, 'a')), await snapshotAccount(addr(fsServer, 'late')));
    expect(diff.details).toEqual([]);
  });
});

describe('TLS and secrets', () => {
  const tlsUrl = (user: string) => `imaps://${user}@${fsServer.host}:${fsServer.tlsPort}`;

  it('verifies certificates: imaps works with the CA, fails without it (exit 4), and --insecure-tls warns', async () => {
    const ok = await runCli(['migrate', '--from', tlsUrl('a'), '--from-ca', fsServer.caFile, '--to', plainUrl(ppServer, 'b'), '--to-ca', ppServer.caFile, '--dry-run'], env);
    expect(ok.code).toBe(0);
    const untrusted = await runCli(['migrate', '--from', tlsUrl('a'), '--to', plainUrl(ppServer, 'b'), '--to-ca', ppServer.caFile, '--dry-run'], env);
    expect(untrusted.code).toBe(4);
    expect(untrusted.stderr).toMatch(/^error: TLS failure with imaps:\/\/a@127\.0\.0\.1:\d+: .*certificate/m);
    const insecure = await runCli(['migrate', '--from', tlsUrl('a'), '--insecure-tls', '--to', plainUrl(ppServer, 'b'), '--to-ca', ppServer.caFile, '--dry-run'], env);
    expect(insecure.code).toBe(0);
    expect(insecure.stderr).toMatch(/--insecure-tls: the certificate of 127\.0\.0\.1 is NOT checked/);
  });

  it('to loopback it logs in without TLS, but upgrades with STARTTLS when the server refuses plaintext', async () => {
    const direct = await runCli(['migrate', '--from', plainUrl(fsServer, 'a'), '--to', plainUrl(ppServer, 'b'), '--dry-run'], env);
    expect(direct.code).toBe(0);
    // Seen from 127.0.0.2, Dovecot advertises LOGINDISABLED: the password must only cross inside TLS.
    const proxy = await startFaultProxy({ host: fsServer.host, port: fsServer.port }, { keepStartTls: true, localAddress: '127.0.0.2' });
    try {
      const viaProxy = `imap://a@127.0.0.1:${proxy.port}`;
      const untrusted = await runCli(['migrate', '--from', viaProxy, '--to', plainUrl(ppServer, 'b'), '--dry-run'], env);
      expect(untrusted.code).toBe(4);
      expect(untrusted.stderr).toMatch(/TLS failure/);
      const trusted = await runCli(['migrate', '--from', viaProxy, '--from-ca', fsServer.caFile, '--to', plainUrl(ppServer, 'b'), '--dry-run'], env);
      expect(trusted.code).toBe(0);
      const upstream = proxy.upstreamBytes().toString('latin1');
      expect(upstream).toMatch(/STARTTLS/);
      expect(upstream).not.toContain(PASSWORD);
      expect(upstream).not.toContain(Buffer.from(`\0a\0${PASSWORD}`).toString('base64'));
    } finally {
      await proxy.close();
    }
  });

  it('never logs a password, even with --debug', async () => {
    const run = await migrate(plainUrl(fsServer, 'a'), ppServer, 'b', 'debug.sqlite', ['--debug', '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/LOGIN|AUTHENTICATE/);
    const plain = Buffer.from(`\0a\0${PASSWORD}`).toString('base64');
    for (const secret of [PASSWORD, Buffer.from(PASSWORD).toString('base64'), plain]) {
      expect(run.stderr + run.stdout).not.toContain(secret);
    }
  });
});

describe('destination refusals', () => {
  it('a message over the destination limit is skipped as too-large, listed, and kept with --oversize-dir', async () => {
    const keep = join(work, 'oversize');
    const run = await migrate(plainUrl(fsServer, 'a'), fsServer, 'small', 'small.sqlite', ['--oversize-dir', keep]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.totals).toMatchObject({ copied: 15, skipped: 1, failed: 0 });
    const inbox = summary.folders.find((f: { source: string }) => f.source === 'INBOX');
    expect(inbox.skipped).toEqual({ 'too-large': 1 });
    expect(inbox.oversize).toEqual([{ uid: 1, size: expect.any(Number), savedTo: expect.stringMatching(new RegExp(`^${keep}/INBOX/\\d+-1\\.eml$`)) }]);
    const saved = readFileSync(inbox.oversize[0].savedTo);
    const original = await withClient(fsServer, 'a', async (c) => {
      await c.mailboxOpen('INBOX');
      const m = await c.fetchOne('1', { source: true }, { uid: true });
      if (!m || !m.source) throw new Error('INBOX UID 1 is gone from the source');
      return m.source;
    });
    expect(saved.equals(original)).toBe(true);
    expect(statSync(inbox.oversize[0].savedTo).mode & 0o777).toBe(0o600);
    // A rerun does not try the refused message again.
    const rerun = await migrate(plainUrl(fsServer, 'a'), fsServer, 'small', 'small.sqlite');
    expect(JSON.parse(rerun.stdout).totals).toMatchObject({ copied: 0, failed: 0 });
  });

  it('a full destination stops the run with exit 5 and leaves no duplicate behind; a rerun stops the same way', async () => {
    for (let i = 0; i < 2; i++) {
      const run = await migrate(plainUrl(fsServer, 'a'), fsServer, 'full', 'full.sqlite', ['--connections', '1']);
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/^error: imap:\/\/full@127\.0\.0\.1:\d+ is full: .*Quota exceeded/m);
    }
    const diff = diffSnapshots(await snapshotAccount(addr(fsServer, 'a')), await snapshotAccount(addr(fsServer, 'full')));
    expect(diff.duplicates).toBe(0);
    expect(diff.extra).toBe(0);
    expect(diff.missing).toBeGreaterThan(0);
  });
});

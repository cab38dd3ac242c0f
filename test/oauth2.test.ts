import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapFlow } from 'imapflow';
import { CachedTokenSource } from '../src/auth/access-token.js';
import { endpointLabel, parseAccountUrl } from '../src/config/account-url.js';
import { ConnectionError } from '../src/errors/errors.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { openClient, type ImapAccount } from '../src/stores/imap/imap-connection.js';
import { ImapFolderHandle } from '../src/stores/imap/imap-folder.js';
import { ImapStore } from '../src/stores/imap/imap-store.js';
import { runCli, startCli, type CliRun } from './support/cli.js';
import { FakeIdentityProvider } from './support/fake-identity-provider.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';

const PASSWORD = 'pw-OAuth-5';
const work = mkdtempSync(join(tmpdir(), 'mf-oauth-'));
const configHome = join(work, 'config');
let idp: FakeIdentityProvider;
let xoauth2: DovecotServer; // offers XOAUTH2 (as Microsoft 365 does), tokens checked by idp
let oauthbearer: DovecotServer; // offers OAUTHBEARER only
let plainOnly: DovecotServer; // no OAuth2 at all

const url = (s: DovecotServer, user: string) => `imap://${user}@${s.host}:${s.port}`;
const addr = (s: DovecotServer, user: string) => ({ host: s.host, port: s.port, user, password: PASSWORD });
/** Sign-ins are saved under $XDG_CONFIG_HOME; passwords only for the password-side accounts. */
const env = { XDG_CONFIG_HOME: configHome, MAILFERRY_TO_PASSWORD: PASSWORD, MAILFERRY_FROM_PASSWORD: PASSWORD };

/** `mailferry login microsoft365` against the local provider (device code). */
function deviceLogin(user: string): Promise<CliRun> {
  idp.nextUser = user;
  return runCli(['login', 'microsoft365', '--user', user, '--client-id', 'test-client', '--token-url', `${idp.base}/token`, '--device-url', `${idp.base}/device`], env);
}

function signInFile(profile: string, user: string): string {
  return join(configHome, 'mailferry', 'oauth2', profile, `${encodeURIComponent(user)}.json`);
}

function migrate(from: string, to: string, state: string, extra: string[]): Promise<CliRun> {
  return runCli(['migrate', '--from', from, '--to', to, '--state', join(work, state), '--json', ...extra], env);
}

/** Messages in every folder; 0 while a folder is being created under doveadm's feet. */
async function messagesIn(s: DovecotServer, user: string): Promise<number> {
  const out = await s.doveadm(['mailbox', 'status', '-u', user, 'messages', '*']).catch(() => '');
  return [...out.matchAll(/messages=(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

const SMALL = { seed: 61, messages: 40, folders: 16, maxSize: 20_000 };
const LARGE = { seed: 62, messages: 3000, folders: 16, maxSize: 8_000 };

beforeAll(async () => {
  idp = new FakeIdentityProvider();
  await new Promise<void>((resolve) => idp.server.listen(0, '127.0.0.1', resolve));
  const users = ['oa', 'big', 'd1', 'd2', 'd3', 'd4', 'd5'].map((name) => ({ name, password: PASSWORD }));
  [xoauth2, oauthbearer, plainOnly] = await Promise.all([
    startDovecot({ users, oauth2: { introspectionUrl: `${idp.base}/introspect`, mechanisms: ['xoauth2'] } }),
    startDovecot({ users: [{ name: 'ob', password: PASSWORD }, { name: 'd1', password: PASSWORD }], oauth2: { introspectionUrl: `${idp.base}/introspect`, mechanisms: ['oauthbearer'] } }),
    startDovecot({ users: [{ name: 'p', password: PASSWORD }] }),
  ]);
  await Promise.all([
    seedAccount(addr(xoauth2, 'oa'), generateCorpus(SMALL), { folders: corpusFolders(SMALL) }),
    seedAccount(addr(oauthbearer, 'ob'), generateCorpus(SMALL), { folders: corpusFolders(SMALL) }),
    seedAccount(addr(xoauth2, 'big'), generateCorpus(LARGE), { folders: corpusFolders(LARGE) }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([xoauth2?.stop(), oauthbearer?.stop(), plainOnly?.stop()]);
  idp?.server.close();
});

describe('XOAUTH2 / OAUTHBEARER with a token command', () => {
  it('logs in with XOAUTH2 using the token the command prints, and never shows the token', async () => {
    idp.active.set('tc-token-1', 'oa');
    const runs = join(work, 'command-runs');
    const command = `echo run >> ${runs}; echo tc-token-1`;
    const run = await migrate(url(xoauth2, 'oa'), url(xoauth2, 'd1'), 'tc.sqlite', ['--from-oauth2-token-command', command, '--debug']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/AUTHENTICATE XOAUTH2/);
    expect(run.stderr + run.stdout).not.toContain('tc-token-1');
    expect(readFileSync(join(work, 'tc.sqlite')).includes('tc-token-1')).toBe(false);
    expect(readFileSync(runs, 'utf8')).toBe('run\n');
    expect(diffSnapshots(await snapshotAccount(addr(xoauth2, 'oa')), await snapshotAccount(addr(xoauth2, 'd1'))).details).toEqual([]);
  });

  it('uses OAUTHBEARER where the server offers that', async () => {
    idp.active.set('tc-token-ob', 'ob');
    const run = await migrate(url(oauthbearer, 'ob'), url(oauthbearer, 'd1'), 'ob.sqlite', ['--from-oauth2-token-command', 'echo tc-token-ob', '--debug']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/AUTHENTICATE OAUTHBEARER/);
    expect(JSON.parse(run.stdout).totals.copied).toBe(SMALL.messages);
  });

  it('refuses a server that offers neither mechanism, and options that contradict each other (exit 3, exit 2)', async () => {
    const none = await migrate(url(plainOnly, 'p'), url(xoauth2, 'd2'), 'none.sqlite', ['--from-oauth2-token-command', 'echo some-token', '--dry-run']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/it offers neither XOAUTH2 nor OAUTHBEARER; sign in with a password/);
    const clash = await migrate(url(xoauth2, 'oa'), url(xoauth2, 'd2'), 'clash.sqlite', ['--from-oauth2-token-command', 'echo x', '--from-password-file', '/dev/null']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toBe('error: --from-oauth2-token-command cannot be combined with --from-password-file\n');
  });
});

describe('mailferry login and a saved sign-in', () => {
  it('device code (microsoft365): saves the refresh token in a 0600 file, which --from-oauth2 then uses', async () => {
    const login = await deviceLogin('oa');
    expect(login.code).toBe(0);
    expect(login.stderr).toContain(`To sign in, open ${idp.base}/activate and enter the code WDJB-MJHT (valid for 10 minutes).`);
    const file = signInFile('microsoft365', 'oa');
    expect(login.stdout).toContain(`saved in ${file} (mode 0600)`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(configHome, 'mailferry', 'oauth2', 'microsoft365')).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({ profile: 'microsoft365', user: 'oa', clientId: 'test-client', tokenUrl: `${idp.base}/token`, scopes: ['https://outlook.office.com/IMAP.AccessAsUser.All', 'offline_access'] });

    const refreshes = idp.grants.filter((g) => g === 'refresh_token').length;
    const run = await migrate(url(xoauth2, 'oa'), url(xoauth2, 'd3'), 'saved.sqlite', ['--from-oauth2', 'microsoft365', '--debug']);
    expect(run.code).toBe(0);
    expect(idp.grants.filter((g) => g === 'refresh_token').length).toBe(refreshes + 1);
    // The provider rotated the refresh token: the new one is saved, the old one is gone.
    const rotated = JSON.parse(readFileSync(file, 'utf8')).refreshToken;
    expect(rotated).not.toBe(saved.refreshToken);
    for (const secret of [saved.refreshToken, rotated]) {
      expect(run.stderr + run.stdout).not.toContain(secret);
      expect(readFileSync(join(work, 'saved.sqlite')).includes(secret)).toBe(false);
    }
    expect(diffSnapshots(await snapshotAccount(addr(xoauth2, 'oa')), await snapshotAccount(addr(xoauth2, 'd3'))).details).toEqual([]);
  });

  it('browser sign-in with a loopback redirect and PKCE (gmail), used for a destination with --to-oauth2', async () => {
    idp.nextUser = 'd4';
    const login = startCli(
      ['login', 'gmail', '--user', 'd4', '--client-id', 'test-client', '--client-secret', 'test-secret', '--authorize-url', `${idp.base}/authorize`, '--token-url', `${idp.base}/token`],
      env,
    );
    const authorizeUrl = await new Promise<string>((resolve) => {
      let text = '';
      login.child.stderr!.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(text);
        if (m) resolve(m[1]!);
      });
    });
    expect(new URL(authorizeUrl).searchParams.get('login_hint')).toBe('d4');
    expect(await idp.completeBrowserSignIn(authorizeUrl)).toBe(200);
    const done = await login.done;
    expect(done.code).toBe(0);
    expect(JSON.parse(readFileSync(signInFile('gmail', 'd4'), 'utf8'))).toMatchObject({ profile: 'gmail', clientSecret: 'test-secret' });

    const run = await migrate(url(xoauth2, 'oa'), url(xoauth2, 'd4'), 'to-d4.sqlite', ['--to-oauth2', 'gmail', '--folder', 'INBOX']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).totals.copied).toBeGreaterThan(0);
    expect(run.stderr).not.toContain('test-secret');
  });

  it('a missing sign-in, a refused refresh token and a profile without sign-in are one-line errors', async () => {
    const missing = await migrate(url(xoauth2, 'oa'), url(xoauth2, 'd5'), 'missing.sqlite', ['--to-oauth2', 'microsoft365']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`error: --to-oauth2: no sign-in saved at ${signInFile('microsoft365', 'd5')}; run mailferry login microsoft365 --user d5 first\n`);

    idp.refreshTokens.clear();
    const revoked = await migrate(url(xoauth2, 'oa'), url(xoauth2, 'd5'), 'revoked.sqlite', ['--from-oauth2', 'microsoft365', '--dry-run']);
    expect(revoked.code).toBe(3);
    expect(revoked.stderr).toBe('error: --from-oauth2: the saved sign-in for oa was refused (invalid_grant: refresh token revoked); run mailferry login microsoft365 --user oa again\n');

    const yahoo = await runCli(['login', 'yahoo', '--user', 'x', '--client-id', 'test-client'], env);
    expect(yahoo.code).toBe(2);
    expect(yahoo.stderr).toMatch(/^error: login yahoo: no built-in OAuth2 sign-in for this provider \(there is one for gmail, google-workspace, microsoft365\)/);
  });
});

describe('a token that expires during a long run', () => {
  it('is reused until two minutes before it expires; connections opened together share one refresh', async () => {
    let now = 0;
    let issued = 0;
    const told: string[] = [];
    const tokens = new CachedTokenSource(
      async () => ({ accessToken: `t${++issued}`, expiresIn: 3600 }),
      (t) => told.push(t),
      () => now,
    );
    expect(await Promise.all([tokens.token(), tokens.token(), tokens.token()])).toEqual(['t1', 't1', 't1']);
    now = (3600 - 121) * 1000;
    expect(await tokens.token()).toBe('t1');
    now = (3600 - 119) * 1000;
    expect(await tokens.token()).toBe('t2');
    tokens.invalidate('t1'); // a refusal of an older token does not throw away the current one
    expect(await tokens.token()).toBe('t2');
    tokens.invalidate('t2');
    expect(await tokens.token()).toBe('t3');
    expect(told).toEqual(['t1', 't2', 't3']);
  });

  it('is refreshed when the connection is reopened, and nothing is lost or copied twice', async () => {
    expect((await deviceLogin('big')).code).toBe(0);
    const refreshesBefore = idp.grants.filter((g) => g === 'refresh_token').length;
    const run = startCli(['migrate', '--from', url(xoauth2, 'big'), '--from-oauth2', 'microsoft365', '--to', url(xoauth2, 'd5'), '--state', join(work, 'long.sqlite'), '--json', '--connections', '2'], env);
    // Mid-run, the access token expires and the server drops every session of the account.
    let copiedAtExpiry = 0;
    while (copiedAtExpiry === 0) {
      await new Promise((r) => setTimeout(r, 20));
      copiedAtExpiry = await messagesIn(xoauth2, 'd5');
    }
    idp.expireAccessTokens('big');
    await xoauth2.doveadm(['kick', 'big']);
    const done = await run.done;

    expect(copiedAtExpiry).toBeLessThan(LARGE.messages);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/connection to imap:\/\/big@127\.0\.0\.1:\d+ (failed|lost) .*; retry 1 of/);
    expect(idp.grants.filter((g) => g === 'refresh_token').length).toBe(refreshesBefore + 2);
    const diff = diffSnapshots(await snapshotAccount(addr(xoauth2, 'big')), await snapshotAccount(addr(xoauth2, 'd5')));
    expect(diff.details).toEqual([]);
    expect(diff.duplicates).toBe(0);
    expect(JSON.parse(done.stdout).totals).toMatchObject({ found: LARGE.messages, failed: 0 });
  });
});

describe('a session the server ends between two commands', () => {
  // The kick above once ended that run with exit 70 ("internal error: No mailbox is selected"):
  // imapflow marks a session LOGOUT as soon as it reads the server's BYE but closes it (and clears
  // `usable`) only on the next turn of the event loop. On a loaded machine another connection's
  // answer lands in that gap and starts the next command on the dying session: FETCH then throws
  // NoMailboxSelected and SELECT resolves to nothing. These put the next command in the gap every time.

  function account(user: string): ImapAccount {
    const endpoint = parseAccountUrl(url(xoauth2, user), '--from');
    idp.active.set(`bye-token-${user}`, user);
    return {
      endpoint,
      label: endpointLabel(endpoint),
      credentials: { kind: 'oauth2', tokens: new CachedTokenSource(async () => ({ accessToken: `bye-token-${user}` }), () => {}) },
      insecureTls: false,
      allowPlaintext: false,
      connections: 1,
      socketTimeoutMs: 60_000,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      debug: false,
      provider: { name: 'generic', specialUseNames: {}, dropFlags: [], restoreSeenAfterFetch: false },
    };
  }

  /** Kicks `user` and starts `next` the moment `client` has read its BYE, before imapflow closes it. */
  async function inByeGap<T>(client: ImapFlow, user: string, next: () => Promise<T>): Promise<{ result: Promise<T>; usable: boolean; loggedOut: boolean }> {
    // imapflow's handler of untagged BYE (not public API): wrapped so the test runs right after it.
    const handlers = (client as unknown as { untaggedHandlers: Record<string, (...args: unknown[]) => unknown> }).untaggedHandlers;
    const bye = handlers.BYE!;
    return new Promise((resolve) => {
      handlers.BYE = (...args) => {
        const handled = bye(...args);
        const seen = { usable: client.usable, loggedOut: client.state === client.states.LOGOUT };
        const result = next();
        result.catch(() => {});
        resolve({ result, ...seen });
        return handled;
      };
      void xoauth2.doveadm(['kick', user]);
    });
  }

  it('a FETCH started after the BYE is a lost connection (retried), not an internal error', async () => {
    const a = account('oa');
    const client = await openClient(a);
    const box = await client.mailboxOpen('INBOX', { readOnly: true });
    const handle = new ImapFolderHandle(client, box, a.label, (c) => c.close());
    const gap = await inByeGap(client, 'oa', async () => {
      for await (const m of handle.fetch([1])) void m;
    });
    expect(gap).toMatchObject({ usable: true, loggedOut: true });
    const err = await gap.result.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/^connection to imap:\/\/oa@127\.0\.0\.1:\d+ lost while reading INBOX/);
    await handle.close();
  });

  it('a pooled connection that got a BYE is not used again: opening a folder logs in anew', async () => {
    const a = account('oa');
    const store = new ImapStore(a);
    await store.connect();
    const pooled = (store as unknown as { idle: ImapFlow[] }).idle[0]!;
    const gap = await inByeGap(pooled, 'oa', () => store.openFolder('INBOX', 'read'));
    expect(gap).toMatchObject({ usable: true, loggedOut: true });
    const handle = await gap.result;
    expect(handle.status.messages).toBeGreaterThan(0);
    await handle.close();
    await store.close();
  });

  it('a BYE while logging in is a dropped connection (retried), and the token is kept', async () => {
    // A server whose BYE and the answer to ID arrive together, as a kick or a shutdown during
    // login sends them: imapflow then reports "Already logged out" as an authentication failure.
    const fake = createNetServer((socket) => {
      const caps = 'IMAP4rev1 SASL-IR ID AUTH=XOAUTH2';
      socket.write(`* OK [CAPABILITY ${caps}] ready\r\n`);
      socket.on('data', (d: Buffer) => {
        const [tag, command] = d.toString().split(' ');
        if (/^CAPABILITY/i.test(command ?? '')) socket.write(`* CAPABILITY ${caps}\r\n${tag} OK done\r\n`);
        else if (/^ID/i.test(command ?? '')) socket.write(`* ID NIL\r\n* BYE Server shutting down.\r\n${tag} OK ID completed\r\n`);
        else socket.write(`${tag} BAD unexpected\r\n`);
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      let issued = 0;
      const a = account('oa');
      const endpoint = { ...a.endpoint, port: (fake.address() as AddressInfo).port };
      const login = openClient({ ...a, endpoint, label: endpointLabel(endpoint), credentials: { kind: 'oauth2', tokens: new CachedTokenSource(async () => ({ accessToken: `t${++issued}` }), () => {}) } });
      const err = await login.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as Error).message).toMatch(/^connection to imap:\/\/oa@127\.0\.0\.1:\d+ failed while connecting: closed by the server \(Server shutting down\.\)$/);
      expect(issued).toBe(1);
    } finally {
      fake.close();
    }
  });
});

describe('a token the server refuses', () => {
  // Last in the file: Dovecot delays further logins from an address after failed ones.
  it('runs the command again when the server refuses its token; a token refused twice fails the run (exit 3)', async () => {
    const runs = join(work, 'refused-runs');
    const run = await migrate(url(xoauth2, 'oa'), url(xoauth2, 'd2'), 'refused.sqlite', ['--from-oauth2-token-command', `echo run >> ${runs}; echo never-valid`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: cannot log in to imap:\/\/oa@127\.0\.0\.1:\d+: authentication failed$/m);
    expect(readFileSync(runs, 'utf8')).toBe('run\nrun\n');
  });
});

import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountSecrets } from '../src/bulk/account-secrets.js';
import type { BulkAccount } from '../src/bulk/bulk-account.js';
import { bulkSecrets } from '../src/bulk/secrets/bulk-secrets.js';
import { migrateOptions, migrateRequest, type MigrateArgs } from '../src/cli/commands/migrate.js';
import { migrate } from '../src/jobs/migrate.js';
import { StderrLogger } from '../src/reporting/logger.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';

/**
 * bulk's per-account secrets against real Dovecots whose passdb oauth2 asks a local identity
 * provider: a Google-like token endpoint that checks the service account's JWT, a Microsoft-like
 * one that checks the client credentials. `bulk` itself is wired elsewhere: a small driver
 * resolves each account's sign-in with bulkSecrets and runs the single-account migrate job.
 */
const work = mkdtempSync(join(tmpdir(), 'mf-bulk-secrets-'));
const GOOGLE_DOMAIN = 'school.example';
const MS_DOMAIN = 'tenant.example';
const TENANT = 'tenant-1';
const MS_CLIENT_ID = 'app-client-1';
const MS_SECRET = 'ms-secret-Canary-3f9e';
const SERVICE_ACCOUNT = 'mailferry@proj.iam.gserviceaccount.com';
/** Every user's password is a canary: none may show up in logs or state files. */
const password = (user: string) => `pw-${user.split('@')[0]}-Canary-71c`;

/** Google's JWT bearer grant, Microsoft's client credentials grant, and RFC 7662 introspection for Dovecot. */
class AppCredentialProvider {
  readonly server = createServer((req, res) => void this.handle(req, res));
  /** Access token -> the username introspection answers. */
  readonly active = new Map<string, string>();
  readonly issued: string[] = [];
  readonly assertions: string[] = [];
  readonly googleGrants: string[] = [];
  msGrants = 0;
  private serial = 0;

  constructor(
    private readonly publicKey: KeyObject,
    /** The Workspace users the delegation reaches. */
    private readonly googleUsers: Set<string>,
  ) {}

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private issue(res: ServerResponse, prefix: string, username: string): void {
    const token = `${prefix}-${++this.serial}-Canary`;
    this.active.set(token, username);
    this.issued.push(token);
    json(res, 200, { token_type: 'Bearer', access_token: token, expires_in: 3599 });
  }

  /** Why a JWT bearer assertion is not acceptable, or undefined when it is. */
  private checkAssertion(jwt: string): { sub: string } | string {
    const [header, body, signature] = jwt.split('.');
    if (!header || !body || !signature) return 'not a JWT';
    if (!verify('sha256', Buffer.from(`${header}.${body}`), this.publicKey, Buffer.from(signature, 'base64url'))) return 'bad signature';
    const h = JSON.parse(Buffer.from(header, 'base64url').toString());
    const c = JSON.parse(Buffer.from(body, 'base64url').toString());
    const now = Date.now() / 1000;
    if (h.alg !== 'RS256' || h.kid !== 'key-1') return 'bad header';
    if (c.iss !== SERVICE_ACCOUNT) return 'bad iss';
    if (c.aud !== `${this.base}/google/token`) return 'bad aud';
    if (c.scope !== 'https://mail.google.com/') return 'bad scope';
    if (!(c.iat <= now + 60 && c.exp > now && c.exp - c.iat <= 3600)) return 'bad lifetime';
    if (!this.googleUsers.has(c.sub)) return 'Invalid email or User ID';
    return { sub: c.sub };
  }

  /** The certificate uploaded to the app (Microsoft keeps its thumbprint and public key). */
  certificate?: X509Certificate;

  /** A client assertion signed with the certificate's key, for this endpoint and this client. */
  private checkClientAssertion(form: URLSearchParams, tokenUrl: string): boolean {
    const [header, body, signature] = (form.get('client_assertion') ?? '').split('.');
    if (!this.certificate || !header || !body || !signature || form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return false;
    const h = JSON.parse(Buffer.from(header, 'base64url').toString());
    const c = JSON.parse(Buffer.from(body, 'base64url').toString());
    this.assertions.push(form.get('client_assertion')!);
    return (
      h.alg === 'RS256' &&
      h.x5t === createHash('sha1').update(this.certificate.raw).digest('base64url') &&
      verify('sha256', Buffer.from(`${header}.${body}`), this.certificate.publicKey, Buffer.from(signature, 'base64url')) &&
      c.aud === tokenUrl && c.iss === MS_CLIENT_ID && c.sub === MS_CLIENT_ID && c.exp > Date.now() / 1000
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    const form = new URLSearchParams(body);
    const path = new URL(req.url ?? '/', this.base).pathname;
    if (path === '/introspect') {
      const username = this.active.get(form.get('token') ?? '');
      return json(res, 200, username ? { active: true, username } : { active: false });
    }
    if (path === '/google/token') {
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(res, 400, { error: 'unsupported_grant_type' });
      const assertion = form.get('assertion') ?? '';
      this.assertions.push(assertion);
      const checked = this.checkAssertion(assertion);
      if (typeof checked === 'string') return json(res, 400, { error: 'invalid_grant', error_description: checked });
      this.googleGrants.push(checked.sub);
      // The token is the subject's: Dovecot compares the username with the login's user.
      return this.issue(res, 'ya29', checked.sub);
    }
    if (path === `/ms/${TENANT}/oauth2/v2.0/token`) {
      const proof = form.has('client_assertion') ? this.checkClientAssertion(form, `${this.base}${path}`) : form.get('client_secret') === MS_SECRET;
      const ok = form.get('grant_type') === 'client_credentials' && form.get('client_id') === MS_CLIENT_ID && proof && form.get('scope') === 'https://outlook.office365.com/.default';
      if (!ok) return json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nTimestamp: now' });
      this.msGrants++;
      // App-only: the Dovecot of this tenant compares domains (usernameFormat %Ld).
      return this.issue(res, 'eyJ0eXAi', `app@${MS_DOMAIN}`);
    }
    return json(res, 404, { error: 'not_found' });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const sources = [`g1@${GOOGLE_DOMAIN}`, `g2@${GOOGLE_DOMAIN}`];
const idp = new AppCredentialProvider(publicKey, new Set(sources));
let google: DovecotServer; // Workspace-like: tokens for the user they name
let exchange: DovecotServer; // Exchange-like: an app token for every mailbox of the domain
const addr = (s: DovecotServer, user: string) => ({ host: s.host, port: s.port, user, password: password(user) });
const url = (s: DovecotServer, user: string) => `imap://${encodeURIComponent(user)}@${s.host}:${s.port}`;
const CORPUS = [
  { seed: 181, messages: 25, folders: 4, maxSize: 20_000 },
  { seed: 182, messages: 18, folders: 3, maxSize: 20_000 },
];

/** What every run logged (at debug level, IMAP traffic included), and the state files written. */
const logged: string[] = [];
const stateFiles: string[] = [];

/** The driver: each account's sign-in from the campaign's secrets, then the single-account job. */
async function runAccount(secrets: AccountSecrets, account: BulkAccount): Promise<void> {
  const from = await secrets.signIn(account, 'from');
  const to = await secrets.signIn(account, 'to');
  const state = join(work, `${account.key}.sqlite`);
  stateFiles.push(state);
  const argv = yargs().options(migrateOptions).parseSync(['--from', account.from, '--to', account.to, '--state', state, '--debug']) as unknown as MigrateArgs;
  argv.passwords = { from: from.password, to: to.password };
  argv.tokens = { from: from.tokens, to: to.tokens };
  const logger = new StderrLogger('debug', (line) => logged.push(line));
  await migrate(migrateRequest(argv, { logger, emit: () => undefined, signal: new AbortController().signal, stdinIsTTY: false }));
}

const row = (n: number, from: string, to: string): BulkAccount => ({ key: `row${n}`, id: `r${n}`, origin: { file: join(work, 'list.csv'), line: n + 1 }, from, to, options: {} });
const noFallback: AccountSecrets = { signIn: async () => ({}) };

beforeAll(async () => {
  await new Promise<void>((resolve) => idp.server.listen(0, '127.0.0.1', resolve));
  const users = (names: string[]) => names.map((name) => ({ name, password: password(name) }));
  [google, exchange] = await Promise.all([
    startDovecot({ users: users([...sources, `d1@${GOOGLE_DOMAIN}`, `d2@${GOOGLE_DOMAIN}`]), oauth2: { introspectionUrl: `${idp.base}/introspect`, mechanisms: ['xoauth2'] } }),
    startDovecot({ users: users([`m1@${MS_DOMAIN}`, `m2@${MS_DOMAIN}`, `m3@${MS_DOMAIN}`]), oauth2: { introspectionUrl: `${idp.base}/introspect`, mechanisms: ['xoauth2'], usernameFormat: '%Ld' } }),
  ]);
  await Promise.all(sources.map((u, i) => seedAccount(addr(google, u), generateCorpus(CORPUS[i]!), { folders: corpusFolders(CORPUS[i]!) })));
}, 120_000);

afterAll(async () => {
  await Promise.all([google?.stop(), exchange?.stop()]);
  idp.server.close();
});

describe('Google Workspace service account (source) and a password directory (destination)', () => {
  it('copies every account, each signed in with a token issued for its own user', async () => {
    const keyFile = join(work, 'service-account.json');
    const key = { type: 'service_account', client_email: SERVICE_ACCOUNT, client_id: '1234567890', private_key_id: 'key-1', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }), token_uri: `${idp.base}/google/token` };
    writeFileSync(keyFile, JSON.stringify(key), { mode: 0o600 });
    const dir = join(work, 'passwords');
    mkdirSync(dir, { mode: 0o700 });
    for (const d of ['d1', 'd2']) writeFileSync(join(dir, `${d}@${GOOGLE_DOMAIN}`), `${password(d)}\n`, { mode: 0o600 });

    const secrets = bulkSecrets({ 'from-google-service-account': keyFile, 'to-password-dir': dir }, noFallback);
    for (const [n, d] of ['d1', 'd2'].entries()) await runAccount(secrets, row(n + 1, url(google, sources[n]!), url(google, `${d}@${GOOGLE_DOMAIN}`)));

    expect(idp.googleGrants).toEqual(sources);
    expect(logged.join('\n')).toMatch(/AUTHENTICATE XOAUTH2/);
    for (const [n, d] of ['d1', 'd2'].entries()) {
      expect(diffSnapshots(await snapshotAccount(addr(google, sources[n]!)), await snapshotAccount(addr(google, `${d}@${GOOGLE_DOMAIN}`))).details).toEqual([]);
    }
  });

  it('a user the delegation does not reach is an authentication failure naming the user and the fix', async () => {
    const keyFile = join(work, 'service-account.json');
    const secrets = bulkSecrets({ 'from-google-service-account': keyFile, 'to-password-dir': join(work, 'passwords') }, noFallback);
    await expect(runAccount(secrets, row(9, url(google, `d1@${GOOGLE_DOMAIN}`), url(google, `d2@${GOOGLE_DOMAIN}`)))).rejects.toThrow(
      `--from-google-service-account: no token for d1@${GOOGLE_DOMAIN} (invalid_grant: Invalid email or User ID); check that client ID 1234567890 has domain-wide delegation with the scope https://mail.google.com/ and that d1@${GOOGLE_DOMAIN} exists`,
    );
  });
});

describe('a password command template (source) and Microsoft 365 client credentials (destination)', () => {
  it('copies every account with one app token for the tenant, each password from the command', async () => {
    // A pass-like helper: `pass show mail/USER` prints the entry.
    const store = join(work, 'store');
    mkdirSync(join(store, 'mail'), { recursive: true });
    for (const u of sources) writeFileSync(join(store, 'mail', u), `${password(u)}\n`);
    const pass = join(work, 'pass');
    writeFileSync(pass, `#!/bin/sh\n[ "$1" = show ] || exit 2\nexec cat "${store}/$2"\n`);
    chmodSync(pass, 0o755);
    const secretFile = join(work, 'client-secret');
    writeFileSync(secretFile, `${MS_SECRET}\n`, { mode: 0o600 });

    const secrets = bulkSecrets(
      { 'from-password-command': `'${pass}' show mail/{user}`, 'to-ms-tenant': TENANT, 'to-ms-client-id': MS_CLIENT_ID, 'to-ms-client-secret-file': secretFile, 'to-ms-authority': `${idp.base}/ms` },
      noFallback,
    );
    for (const [n, m] of ['m1', 'm2'].entries()) await runAccount(secrets, row(n + 3, url(google, sources[n]!), url(exchange, `${m}@${MS_DOMAIN}`)));

    expect(idp.msGrants).toBe(1);
    for (const [n, m] of ['m1', 'm2'].entries()) {
      expect(diffSnapshots(await snapshotAccount(addr(google, sources[n]!)), await snapshotAccount(addr(exchange, `${m}@${MS_DOMAIN}`))).details).toEqual([]);
    }
  });

  it("signs in with the app's certificate instead of a secret", async () => {
    const key = join(work, 'app.key');
    const cert = join(work, 'app.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=mailferry'], { stdio: 'ignore' });
    idp.certificate = new X509Certificate(readFileSync(cert));
    const pem = join(work, 'app.pem');
    writeFileSync(pem, readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'), { mode: 0o600 });
    const fromFallback: AccountSecrets = { signIn: async (_a, word) => (word === 'from' ? { password: password(sources[1]!) } : {}) };
    const grants = idp.msGrants;

    const secrets = bulkSecrets({ 'to-ms-tenant': TENANT, 'to-ms-client-id': MS_CLIENT_ID, 'to-ms-client-certificate': pem, 'to-ms-authority': `${idp.base}/ms` }, fromFallback);
    await runAccount(secrets, row(5, url(google, sources[1]!), url(exchange, `m3@${MS_DOMAIN}`)));

    expect(idp.msGrants).toBe(grants + 1);
    expect(diffSnapshots(await snapshotAccount(addr(google, sources[1]!)), await snapshotAccount(addr(exchange, `m3@${MS_DOMAIN}`))).details).toEqual([]);
  });

  it('a refused client secret is one line with the first line of the refusal', async () => {
    // The source side is the fallback's (as the list's other options would give it).
    const fromFallback: AccountSecrets = { signIn: async (_a, word) => (word === 'from' ? { password: password(sources[0]!) } : {}) };
    const wrong = join(work, 'wrong-secret');
    writeFileSync(wrong, 'not-the-secret', { mode: 0o600 });
    const secrets = bulkSecrets({ 'to-ms-tenant': TENANT, 'to-ms-client-id': MS_CLIENT_ID, 'to-ms-client-secret-file': wrong, 'to-ms-authority': `${idp.base}/ms` }, fromFallback);
    await expect(runAccount(secrets, row(8, url(google, sources[0]!), url(exchange, `m1@${MS_DOMAIN}`)))).rejects.toThrow(
      `--to-ms-client-id: no app token for ${MS_CLIENT_ID} in tenant ${TENANT} (invalid_client: AADSTS7000215: Invalid client secret provided.)`,
    );
  });
});

describe('no secret in logs or state', () => {
  it('no password, token, assertion or client secret appears in what the runs logged or wrote', () => {
    const secrets = [...[...sources, 'd1', 'd2'].map(password), ...idp.issued, ...idp.assertions, MS_SECRET];
    expect(idp.issued.length).toBeGreaterThanOrEqual(3);
    const text = logged.join('\n');
    expect(text.length).toBeGreaterThan(1000);
    for (const s of secrets) {
      expect(text).not.toContain(s);
      for (const state of stateFiles.filter((f) => existsSync(f))) expect(readFileSync(state).includes(s), `${s} in ${state}`).toBe(false);
    }
  });
});

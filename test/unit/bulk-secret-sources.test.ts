import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCredentials } from '../../src/auth/imap-credentials.js';
import type { BulkAccount } from '../../src/bulk/bulk-account.js';
import { bulkSecrets } from '../../src/bulk/secrets/bulk-secrets.js';
import { loadServiceAccountKey } from '../../src/bulk/secrets/google-service-account.js';
import { signedJwt } from '../../src/bulk/secrets/jwt-assertion.js';
import { clientAssertion, loadClientCertificate } from '../../src/bulk/secrets/client-certificate.js';
import { passwordFileName } from '../../src/bulk/secrets/password-dir.js';
import { parseAccountUrl } from '../../src/config/account-url.js';
import { UsageError } from '../../src/errors/errors.js';

const work = mkdtempSync(join(tmpdir(), 'mf-bulk-secrets-'));
const usage = (message: string) => new UsageError(message);
const noFallback = { signIn: async () => ({}) };
const account = (from: string, to = 'imap://dest@127.0.0.1'): BulkAccount => ({ key: from, origin: { file: 'list.csv', line: 2 }, from, to, options: {} });

function file(name: string, text: string, mode = 0o600): string {
  const path = join(work, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe('a password directory: one 0600 file per login', () => {
  const dir = join(work, 'passwords');
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'alice@example.org'), 'alice-pw\n', { mode: 0o600 });
  writeFileSync(join(dir, 'dept%2Fbob'), 'bob-pw', { mode: 0o600 });
  writeFileSync(join(dir, 'carol'), 'carol-pw\n', { mode: 0o644 });
  writeFileSync(join(dir, 'dave'), '', { mode: 0o600 });
  writeFileSync(join(dir, 'erin'), 'one\ntwo\n', { mode: 0o600 });
  const secrets = bulkSecrets({ 'to-password-dir': dir }, noFallback);
  const to = (user: string) => account('imap://src@127.0.0.1', `imap://${encodeURIComponent(user)}@127.0.0.1`);
  const OPT = '--to-password-dir';

  it('names each file as the login, percent-encoding what a file name cannot hold', () => {
    expect(passwordFileName('alice@example.org')).toBe('alice@example.org');
    expect(passwordFileName('dept/bob')).toBe('dept%2Fbob');
    expect(passwordFileName('100%')).toBe('100%25');
    expect(passwordFileName('..')).toBe('%2E.');
    expect(passwordFileName('a\nb')).toBe('a%0Ab');
  });

  it("reads the login's file, its one line without the final newline", async () => {
    expect(await secrets.signIn(to('alice@example.org'), 'to')).toMatchObject({ password: 'alice-pw' });
    expect(await secrets.signIn(to('dept/bob'), 'to')).toMatchObject({ password: 'bob-pw' });
    // The source side is not this option's: the fallback's, untouched.
    expect(await secrets.signIn(to('alice@example.org'), 'from')).toEqual({});
  });

  it('a missing, readable-by-others, empty or multi-line file is one line naming it', async () => {
    await expect(secrets.signIn(to('zed'), 'to')).rejects.toThrow(usage(`${OPT}: cannot read ${join(dir, 'zed')}: ENOENT`));
    await expect(secrets.signIn(to('carol'), 'to')).rejects.toThrow(usage(`${OPT}: ${join(dir, 'carol')} has mode 644; other users can read it, run chmod 600 ${join(dir, 'carol')}`));
    await expect(secrets.signIn(to('dave'), 'to')).rejects.toThrow(usage(`${OPT}: ${join(dir, 'dave')} is empty`));
    await expect(secrets.signIn(to('erin'), 'to')).rejects.toThrow(usage(`${OPT}: ${join(dir, 'erin')} has more than one line`));
  });

  it('refuses, before any account, a directory others may write to or that is not there', () => {
    const open = join(work, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(() => bulkSecrets({ 'from-password-dir': open }, noFallback)).toThrow(usage(`--from-password-dir: ${open} has mode 777; other users can replace its files, run chmod go-w ${open}`));
    expect(() => bulkSecrets({ 'from-password-dir': join(work, 'none') }, noFallback)).toThrow(usage(`--from-password-dir: cannot read ${join(work, 'none')}: ENOENT`));
  });
});

describe('the JWT bearer assertion of a Google service account', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('is RS256 over header.claims, verifiable with the public key, with the claims Google asks for', () => {
    const claims = { iss: 'mailferry@proj.iam.gserviceaccount.com', sub: 'alice@example.org', scope: 'https://mail.google.com/', aud: 'https://oauth2.googleapis.com/token', iat: 1_700_000_000, exp: 1_700_003_600 };
    const jwt = signedJwt(claims, privateKey, { kid: 'key-1' });
    const [header, body, signature] = jwt.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'key-1' });
    expect(JSON.parse(Buffer.from(body, 'base64url').toString())).toEqual(claims);
    expect(verify('sha256', Buffer.from(`${header}.${body}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    // Another key's signature does not pass: the check above means something.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(verify('sha256', Buffer.from(`${header}.${body}`), other, Buffer.from(signature, 'base64url'))).toBe(false);
  });

  it('the key file must be 0600, a key, and name an https token endpoint', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const key = { type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: pem, private_key_id: 'k1', token_uri: 'https://oauth2.googleapis.com/token' };
    const OPT = '--from-google-service-account';
    expect(loadServiceAccountKey(file('key.json', JSON.stringify(key)), OPT)).toMatchObject({ clientEmail: key.client_email, privateKeyId: 'k1', tokenUrl: key.token_uri });
    const open = file('open.json', JSON.stringify(key), 0o640);
    expect(() => loadServiceAccountKey(open, OPT)).toThrow(usage(`${OPT}: ${open} has mode 640; other users can read it, run chmod 600 ${open}`));
    const notKey = file('not.json', '{"installed": {}}');
    expect(() => loadServiceAccountKey(notKey, OPT)).toThrow(usage(`${OPT}: ${notKey} is not a service account key (JSON with client_email, private_key, token_uri)`));
    const badPem = file('pem.json', JSON.stringify({ ...key, private_key: 'nope' }));
    expect(() => loadServiceAccountKey(badPem, OPT)).toThrow(usage(`${OPT}: the private_key in ${badPem} is not a PEM private key`));
    const plain = file('http.json', JSON.stringify({ ...key, token_uri: 'http://tokens.example.org/token' }));
    expect(() => loadServiceAccountKey(plain, OPT)).toThrow(usage(`${OPT} (token_uri): the token endpoint http://tokens.example.org must be https:// (http:// only on this machine)`));
  });
});

describe("the client assertion of a Microsoft 365 app's certificate", () => {
  /** A self-signed certificate and its key in one PEM file, as the app's owner makes them. */
  function certificateFile(name: string): string {
    const key = join(work, `${name}.key`);
    const cert = join(work, `${name}.crt`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=mailferry'], { stdio: 'ignore' });
    return file(`${name}.pem`, readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'));
  }
  const OPT = '--to-ms-client-certificate';

  it("is signed with the certificate's key, names the certificate by its SHA-1 thumbprint, and is for the token endpoint only", () => {
    const path = certificateFile('app');
    const certificate = new X509Certificate(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(readFileSync(path, 'utf8'))![0]);
    const jwt = clientAssertion(loadClientCertificate(path, OPT), 'app-1', 'https://login.example/t/oauth2/v2.0/token');
    const [header, body, signature] = jwt.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', x5t: createHash('sha1').update(certificate.raw).digest('base64url') });
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    expect(claims).toMatchObject({ aud: 'https://login.example/t/oauth2/v2.0/token', iss: 'app-1', sub: 'app-1' });
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(600);
    expect(claims.jti).not.toBe(JSON.parse(Buffer.from(clientAssertion(loadClientCertificate(path, OPT), 'app-1', 'x').split('.')[1]!, 'base64url').toString()).jti);
    expect(verify('sha256', Buffer.from(`${header}.${body}`), certificate.publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  it("refuses a file without a certificate, or whose key is not the certificate's", () => {
    const keyOnly = file('key-only.pem', readFileSync(join(work, 'app.key'), 'utf8'));
    expect(() => loadClientCertificate(keyOnly, OPT)).toThrow(usage(`${OPT}: ${keyOnly} holds no certificate (PEM: the certificate and its private key)`));
    certificateFile('other');
    const mixed = file('mixed.pem', readFileSync(join(work, 'other.key'), 'utf8') + readFileSync(join(work, 'app.crt'), 'utf8'));
    expect(() => loadClientCertificate(mixed, OPT)).toThrow(usage(`${OPT}: the private key in ${mixed} is not the certificate's`));
  });
});

describe('one source per side', () => {
  it('two sources for a side, or a partial Microsoft 365 credential, are one usage error', () => {
    expect(() => bulkSecrets({ 'from-password-command': 'pass show {user}', 'from-password-dir': work }, noFallback)).toThrow(
      usage('--from-password-command and --from-password-dir both say how --from accounts sign in; give one'),
    );
    expect(() => bulkSecrets({ 'to-google-service-account': 'k.json', 'to-ms-tenant': 't' }, noFallback)).toThrow(
      usage('--to-google-service-account and --to-ms-tenant both say how --to accounts sign in; give one'),
    );
    expect(() => bulkSecrets({ 'to-ms-tenant': 'example.org', 'to-ms-client-id': 'c' }, noFallback)).toThrow(
      usage('Microsoft 365 client credentials need --to-ms-tenant, --to-ms-client-id and --to-ms-client-secret-file or --to-ms-client-certificate; missing --to-ms-client-secret-file or --to-ms-client-certificate'),
    );
    expect(() => bulkSecrets({ 'to-ms-tenant': 't', 'to-ms-client-id': 'c', 'to-ms-client-secret-file': 's', 'to-ms-client-certificate': 'c.pem' }, noFallback)).toThrow(
      usage('--to-ms-client-secret-file and --to-ms-client-certificate both prove the app; give one'),
    );
    // One source on each side is fine.
    expect(() => bulkSecrets({ 'from-password-command': 'pass show {user}', 'to-password-dir': work }, noFallback)).not.toThrow();
  });
});

describe('tokens handed over as a value (SignInSpec.tokens)', () => {
  const endpoint = parseAccountUrl('imap://alice@127.0.0.1', '--to');
  const sink = () => {
    const secrets: string[] = [];
    return { secrets, addSecret: (s: string) => void secrets.push(s), warn: () => undefined };
  };
  const tokens = { token: async () => 'app-token-1', invalidate: () => undefined };

  it('sign in with OAuth2, each token registered for redaction as it is handed out', async () => {
    const log = sink();
    const credentials = await resolveCredentials('to', { tokens }, endpoint, undefined, log);
    if (credentials.kind !== 'oauth2') throw new Error(`signed in with ${credentials.kind}`);
    expect(log.secrets).toEqual([]);
    expect(await credentials.tokens.token()).toBe('app-token-1');
    expect(log.secrets).toEqual(['app-token-1']);
  });

  it('clash with any other way of signing in for the side', async () => {
    const clash = (spec: object, url = endpoint) => resolveCredentials('to', { tokens, ...spec }, url, undefined, sink());
    await expect(clash({ password: 'p' })).rejects.toThrow(usage("--to's OAuth2 app credential cannot be combined with a password"));
    await expect(clash({ oauth2: 'gmail' })).rejects.toThrow(usage("--to's OAuth2 app credential cannot be combined with --to-oauth2"));
    await expect(clash({ oauth2TokenCommand: 'x' })).rejects.toThrow(usage("--to's OAuth2 app credential cannot be combined with --to-oauth2-token-command"));
    await expect(clash({ authzid: 'bob' })).rejects.toThrow(usage("--to's OAuth2 app credential cannot be combined with --to-authzid (SASL PLAIN only)"));
    await expect(clash({}, parseAccountUrl('imap://alice:pw@127.0.0.1', '--to'))).rejects.toThrow(usage("--to's OAuth2 app credential cannot be combined with a password in the URL"));
  });
});

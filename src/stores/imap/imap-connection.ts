import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { ImapFlowOptions } from 'imapflow';
import { ImapFlow } from './imapflow-client.js';
import { whenLoggedIn } from './imapflow-login.js';
import { isLoopback, type ImapEndpoint } from '../../config/account-url.js';
import type { Logger } from '../../reporting/logger.js';
import type { ImapCredentials } from '../../auth/imap-credentials.js';
import type { SpecialUseNames } from '../../config/profile-schema.js';
import { AuthError, ConnectionError } from '../../errors/errors.js';
import { classifyImapError, isServerRefusal, noteSilence } from './imap-errors.js';
import { keepAlive } from './keep-alive.js';
import { PACKAGE_ROOT } from '../../package-root.js';

const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface ImapAccount {
  endpoint: ImapEndpoint;
  label: string;
  credentials: ImapCredentials;
  /** Extra trusted CA (PEM), added to the system's. */
  ca?: string;
  /** Skip certificate checks (loud, explicit). */
  insecureTls: boolean;
  /** Allow an unencrypted session to a non-loopback host when it offers no STARTTLS. */
  allowPlaintext: boolean;
  /** Most connections this account may hold at once. */
  connections: number;
  /**
   * Silence (no byte either way) after which a connection with a command under way counts as dead;
   * an idle one is kept alive with NOOPs (keep-alive.ts). Never a limit on a whole command.
   */
  socketTimeoutMs: number;
  logger: Logger;
  debug: boolean;
  /** The run's interrupt (Ctrl-C, SIGTERM): every connection is dropped at once, whatever it is doing. */
  signal?: AbortSignal;
  /** What the provider profile (profiles/*.json) says about this server. */
  provider: ProviderFacts;
}

export interface ProviderFacts {
  /** The profile's name, for sign-in hints. */
  name: string;
  /** Special-use folders by name, used when the server marks none (see profile-special-use.ts). */
  specialUseNames: SpecialUseNames;
  /** Largest message the provider accepts, when it does not say so with APPENDLIMIT. */
  maxMessageSize?: number;
  /** Flags and keywords never set here. */
  dropFlags: string[];
  /** The server sets \Seen when a body is fetched (iCloud): put it back. */
  restoreSeenAfterFetch: boolean;
  /** Most messages one command may name, when the server does not say so with MESSAGELIMIT (Yahoo). */
  maxBatch?: number;
}

type SaslAuth = NonNullable<ImapFlowOptions['auth']>;

/**
 * imapflow options that are safe by default: certificates verified, STARTTLS required on imap://
 * unless the host is loopback or the user allowed plaintext, and never `logRaw` (it would log the
 * LOGIN literal).
 */
function clientOptions(account: ImapAccount, startTls: StartTlsPolicy, auth: SaslAuth): ImapFlowOptions {
  const e = account.endpoint;
  const secure = e.scheme === 'imaps';
  return {
    host: e.host,
    port: e.port,
    secure,
    doSTARTTLS: secure ? undefined : startTls === 'required' ? true : startTls === 'never' ? false : undefined,
    auth,
    tls: {
      rejectUnauthorized: !account.insecureTls,
      ...(account.ca ? { secureContext: trustedContext(account.ca) } : {}),
      minVersion: MIN_TLS,
    },
    logger: imapflowLogger(account),
    logRaw: false,
    disableAutoIdle: true,
    // COMPRESS=DEFLATE (RFC 4978) whenever the server offers it (imapflow's default, kept on purpose):
    // text mail crosses a slow link in well under half its size (test/imap-compress.test.ts).
    disableCompression: false,
    socketTimeout: account.socketTimeoutMs,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    clientInfo: { name: 'mailferry', version: VERSION, vendor: 'mailferry' },
  };
}

const MIN_TLS = 'TLSv1.2';
const contexts = new Map<string, SecureContext>();

/**
 * One TLS context per extra CA for the whole process, shared by every connection: building one
 * parses the system's ~140 root certificates, 25 ms of CPU per connection, a quarter of a second
 * of a 100-folder no-change rerun over 10 connections.
 */
function trustedContext(ca: string): SecureContext {
  let context = contexts.get(ca);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, ca], minVersion: MIN_TLS });
    contexts.set(ca, context);
  }
  return context;
}

/**
 * `required`: STARTTLS or fail (any remote host). `never`: plaintext, for loopback, where the
 * bytes never leave the machine and TLS would only cost CPU. `offered`: STARTTLS when the server
 * offers it (--allow-plaintext to a remote host).
 */
export type StartTlsPolicy = 'required' | 'never' | 'offered';

function defaultStartTls(account: ImapAccount): StartTlsPolicy {
  if (isLoopback(account.endpoint.host)) return 'never';
  return account.allowPlaintext ? 'offered' : 'required';
}

export async function openClient(account: ImapAccount, onLoggedIn?: () => void): Promise<ImapFlow> {
  const c = account.credentials;
  const user = account.endpoint.user;
  try {
    if (c.kind === 'password') {
      // Forced to AUTHENTICATE PLAIN, the one mechanism that carries an authorization identity.
      return await openSession(account, { user, pass: c.password, ...(c.authzid !== undefined ? { authzid: c.authzid, loginMethod: 'AUTH=PLAIN' } : {}) }, onLoggedIn);
    }
    // A token kept since an earlier connection may have expired meanwhile: a refused one is
    // replaced once by a fresh one (the token command runs again, or the refresh token is
    // redeemed), so a reconnect late in a long run logs in again instead of failing it.
    const token = await c.tokens.token();
    try {
      return await openSession(account, { user, accessToken: token }, onLoggedIn);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      c.tokens.invalidate(token);
      return await openSession(account, { user, accessToken: await c.tokens.token() }, onLoggedIn);
    }
  } catch (err) {
    const p = account.provider;
    if (!(err instanceof AuthError) || p.name === 'generic') throw err;
    throw new AuthError(`${err.message} (how to sign in to ${p.name}: mailferry profiles show ${p.name})`, { cause: err.cause });
  }
}

async function openSession(account: ImapAccount, auth: SaslAuth, onLoggedIn?: () => void): Promise<ImapFlow> {
  const policy = defaultStartTls(account);
  try {
    return await connectWith(account, policy, auth, onLoggedIn);
  } catch (err) {
    // A loopback server may still refuse plaintext logins (LOGINDISABLED): then use its STARTTLS.
    if (policy !== 'never' || !(err instanceof AuthError) || !/refuses plaintext/.test(err.message)) throw err;
    return connectWith(account, 'required', auth, onLoggedIn);
  }
}

/** `onLoggedIn`: called once the server accepted the login, before the session's set-up commands. */
async function connectWith(account: ImapAccount, startTls: StartTlsPolicy, auth: SaslAuth, onLoggedIn?: () => void): Promise<ImapFlow> {
  const client = new ImapFlow(clientOptions(account, startTls, auth));
  if (onLoggedIn) whenLoggedIn(client, onLoggedIn);
  // A connection-level error after connect surfaces on the next command; don't crash on the event.
  client.on('error', (err: Error & { code?: string }) => {
    if (err.code === 'ETIMEOUT') noteSilence(client, account.socketTimeoutMs);
    account.logger.debug(`${account.label}: ${err.message}`);
  });
  try {
    await client.connect();
  } catch (err) {
    client.close();
    if (auth.accessToken && !offersOAuth(client)) {
      throw new AuthError(`cannot log in to ${account.label}: it offers neither XOAUTH2 nor OAUTHBEARER; sign in with a password`, { cause: err });
    }
    // A BYE while logging in (a kick, a shutdown) ends the session under imapflow's feet; what it
    // then throws can look like a refused login ("Already logged out", "No matching
    // authentication method") though the server refused nothing: that is a dropped connection,
    // retried, and must not cost the token its place. A tagged NO stays what it says.
    if (client.byeReason && !isServerRefusal(err)) {
      throw new ConnectionError(`connection to ${account.label} failed while connecting: closed by the server (${client.byeReason})`, { cause: err });
    }
    throw classifyImapError(err, account.label, 'connecting');
  }
  if (auth.authzid !== undefined && !usedSaslPlain(client)) {
    // imapflow falls back to the LOGIN command, which has no authorization identity, when the
    // server lists no AUTH= mechanism: that would be the administrator's own mailbox.
    await client.logout().catch(() => client.close());
    throw new AuthError(`cannot log in to ${account.label}: the server did not take AUTHENTICATE PLAIN, which an authorization identity needs`);
  }
  keepAlive(client, account.socketTimeoutMs);
  return client;
}

function offersOAuth(client: ImapFlow): boolean {
  const caps = client.capabilities;
  // Unknown (no greeting came): not this error.
  return caps.size === 0 || caps.has('AUTH=XOAUTH2') || caps.has('AUTH=OAUTHBEARER') || caps.has('AUTH=XOAUTH');
}

/** imapflow marks the mechanism it logged in with in `authCapabilities` (not in its typings). */
function usedSaslPlain(client: ImapFlow): boolean {
  const used = (client as unknown as { authCapabilities?: Map<string, boolean> }).authCapabilities;
  return used?.get('AUTH=PLAIN') === true;
}

function imapflowLogger(account: ImapAccount): ImapFlowOptions['logger'] {
  if (!account.debug) return false;
  const line = (level: string) => (obj: { msg?: string; cid?: string }) => account.logger.debug(`imap ${account.label} ${obj.cid ?? ''} ${level}: ${obj.msg ?? ''}`);
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

import { createRequire } from 'node:module';
import { rootCertificates } from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { isLoopback, type ImapEndpoint } from '../../config/account-url.js';
import type { Logger } from '../../reporting/logger.js';
import { AuthError } from '../../errors/errors.js';
import { classifyImapError } from './imap-errors.js';

// Same depth under src/ and dist/, so this finds the package's own manifest either way.
const VERSION: string = createRequire(import.meta.url)('../../../package.json').version;

export interface ImapAccount {
  endpoint: ImapEndpoint;
  label: string;
  password: string;
  /** Extra trusted CA (PEM), added to the system's. */
  ca?: string;
  /** Skip certificate checks (loud, explicit). */
  insecureTls: boolean;
  /** Allow an unencrypted session to a non-loopback host when it offers no STARTTLS. */
  allowPlaintext: boolean;
  /** Most connections this account may hold at once. */
  connections: number;
  /** Inactivity limit for one connection; a stalled one fails instead of hanging. */
  socketTimeoutMs: number;
  logger: Logger;
  debug: boolean;
}

/**
 * imapflow options that are safe by default: certificates verified, STARTTLS required on imap://
 * unless the host is loopback or the user allowed plaintext, and never `logRaw` (it would log the
 * LOGIN literal).
 */
function clientOptions(account: ImapAccount, startTls: StartTlsPolicy): ImapFlowOptions {
  const e = account.endpoint;
  const secure = e.scheme === 'imaps';
  return {
    host: e.host,
    port: e.port,
    secure,
    doSTARTTLS: secure ? undefined : startTls === 'required' ? true : startTls === 'never' ? false : undefined,
    auth: { user: e.user, pass: account.password },
    tls: {
      rejectUnauthorized: !account.insecureTls,
      ...(account.ca ? { ca: [...rootCertificates, account.ca] } : {}),
      minVersion: 'TLSv1.2',
    },
    logger: imapflowLogger(account),
    logRaw: false,
    disableAutoIdle: true,
    socketTimeout: account.socketTimeoutMs,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    clientInfo: { name: 'mailferry', version: VERSION, vendor: 'mailferry' },
  };
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

export async function openClient(account: ImapAccount): Promise<ImapFlow> {
  const policy = defaultStartTls(account);
  try {
    return await connectWith(account, policy);
  } catch (err) {
    // A loopback server may still refuse plaintext logins (LOGINDISABLED): then use its STARTTLS.
    if (policy !== 'never' || !(err instanceof AuthError) || !/refuses plaintext/.test(err.message)) throw err;
    return connectWith(account, 'required');
  }
}

async function connectWith(account: ImapAccount, startTls: StartTlsPolicy): Promise<ImapFlow> {
  const client = new ImapFlow(clientOptions(account, startTls));
  // A connection-level error after connect surfaces on the next command; don't crash on the event.
  client.on('error', (err: Error) => account.logger.debug(`${account.label}: ${err.message}`));
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw classifyImapError(err, account.label, 'connecting');
  }
  return client;
}

function imapflowLogger(account: ImapAccount): ImapFlowOptions['logger'] {
  if (!account.debug) return false;
  const line = (level: string) => (obj: { msg?: string; cid?: string }) => account.logger.debug(`imap ${account.label} ${obj.cid ?? ''} ${level}: ${obj.msg ?? ''}`);
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

import { rootCertificates } from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { isLoopback, type ImapEndpoint } from '../../config/account-url.js';
import type { Logger } from '../../reporting/logger.js';
import { classifyImapError } from './imap-errors.js';

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
export function clientOptions(account: ImapAccount): ImapFlowOptions {
  const e = account.endpoint;
  const secure = e.scheme === 'imaps';
  const plaintextOk = account.allowPlaintext || isLoopback(e.host);
  return {
    host: e.host,
    port: e.port,
    secure,
    // true: STARTTLS or fail. undefined: STARTTLS when offered, else plaintext (loopback/allowed).
    doSTARTTLS: secure ? undefined : plaintextOk ? undefined : true,
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
    clientInfo: { name: 'mailferry' },
  };
}

export async function openClient(account: ImapAccount): Promise<ImapFlow> {
  const client = new ImapFlow(clientOptions(account));
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

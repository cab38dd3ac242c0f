import { isIP } from 'node:net';
import { UsageError } from '../errors/errors.js';

export interface ImapEndpoint {
  /** `imaps`: TLS from the first byte; `imap`: STARTTLS. */
  scheme: 'imap' | 'imaps';
  host: string;
  port: number;
  user: string;
  /** A password written into the URL (discouraged: it is on the command line). */
  password?: string;
}

/**
 * Parses `imaps://user@host[:port]` or `imap://user@host[:port]`. The user part is
 * percent-decoded, so `alice%40old.example` is the login `alice@old.example`.
 */
export function parseAccountUrl(text: string, option: string): ImapEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${option}: not a URL: ${redactUrl(text)} (expected imaps://user@host or imap://user@host)`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'imap' && scheme !== 'imaps') {
    throw new UsageError(`${option}: unsupported scheme '${scheme}:' (expected imaps:// or imap://)`);
  }
  if (!url.hostname) throw new UsageError(`${option}: no host in ${redactUrl(text)}`);
  if (!url.username) throw new UsageError(`${option}: no user in ${redactUrl(text)} (write imaps://user@host)`);
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    throw new UsageError(`${option}: unexpected path or query in ${redactUrl(text)}`);
  }
  let user: string;
  let password: string | undefined;
  try {
    user = decodeURIComponent(url.username);
    password = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    throw new UsageError(`${option}: bad percent-encoding in the user part of ${redactUrl(text)}`);
  }
  const port = url.port ? Number(url.port) : scheme === 'imaps' ? 993 : 143;
  return { scheme, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, user, password };
}

/** The URL as it may be printed: no password. */
export function endpointLabel(e: ImapEndpoint): string {
  const host = isIP(e.host) === 6 ? `[${e.host}]` : e.host;
  return `${e.scheme}://${encodeURIComponent(e.user)}@${host}:${e.port}`;
}

/** Loopback addresses, where plaintext never leaves the machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function redactUrl(text: string): string {
  return text.replace(/(\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

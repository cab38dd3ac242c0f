import { getStatusCode } from 'imapflow/lib/tools.js';
import { AuthError, ConnectionError, FolderError, MailferryError, PermanentConnectionError, QuotaError, ThrottleError } from '../../errors/errors.js';

/** The fields of imapflow's errors that mailferry reads; this file is the only one that does. */
interface ImapFlowErrorLike {
  code?: string;
  message?: string;
  authenticationFailed?: boolean;
  tlsFailed?: boolean;
  serverResponseCode?: string;
  responseStatus?: string;
  responseText?: string;
  reason?: string;
  throttleReset?: number;
  throttleWaited?: number;
  response?: unknown;
}

/** The bracketed response code (OVERQUOTA, THROTTLED, ...): some imapflow commands copy it, others leave it in the response. */
function responseCode(e: ImapFlowErrorLike): string | undefined {
  return e.serverResponseCode ?? (getStatusCode(e.response as Parameters<typeof getStatusCode>[0]) || undefined);
}

/** Back-off when the server says "throttled" without saying for how long (Gmail). */
const DEFAULT_THROTTLE_MS = 5_000;

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'ETIMEOUT', 'NoConnection', 'EConnectionClosed',
  'ClosedAfterConnectText', 'ClosedAfterConnectTLS', 'StateLogout',
]);

/** A refusal by the server concerning this one request (NO/BAD), as opposed to a broken session. */
export function isServerRefusal(err: unknown): boolean {
  const e = err as ImapFlowErrorLike;
  return e?.responseStatus === 'NO' || e?.responseStatus === 'BAD';
}

export function refusalText(err: unknown): string {
  const e = err as ImapFlowErrorLike;
  return (e.responseText || e.message || 'refused').trim();
}

/** The fields of an imapflow client that tell whether its session still stands. */
export interface ImapSession {
  usable: boolean;
  state: number;
  states: { LOGOUT: number };
  byeReason?: string;
}

/**
 * Whether the server has ended this session. imapflow marks the session LOGOUT the moment it reads
 * the server's BYE (a kick, a shutdown, an idle timeout) but closes it, and only then clears
 * `usable`, on the next turn of the event loop. A command started in between does not fail as a
 * lost connection: FETCH throws NoMailboxSelected, while SELECT, APPEND, CREATE and STORE resolve
 * to nothing.
 */
export function sessionEnded(client: ImapSession): boolean {
  return !client.usable || client.state === client.states.LOGOUT;
}

/** The error for a command that failed, or came back empty, because the server ended the session. */
export function sessionLost(client: ImapSession, label: string, doing: string, cause?: unknown): ConnectionError {
  const bye = client.byeReason ? ` (${client.byeReason})` : '';
  return new ConnectionError(`connection to ${label} lost while ${doing}${bye}`, cause === undefined ? undefined : { cause });
}

/** Sessions imapflow dropped for silence (its socket timeout), with the timeout: their commands fail as "Connection not available". */
const silenced = new WeakMap<object, number>();

export function noteSilence(session: object, timeoutMs: number): void {
  silenced.set(session, timeoutMs);
}

/**
 * Turns an imapflow failure into the typed error that decides the run's fate. `label` names the
 * account (never with a password). With `session` (the client the command ran on), a failure
 * nothing else explains is a lost connection when the server has ended that session, whatever
 * imapflow made of it.
 */
export function classifyImapError(err: unknown, label: string, doing: string, session?: ImapSession): Error {
  // Already decided, e.g. a lost session found inside the try block that catches it.
  if (err instanceof MailferryError || err instanceof FolderError) return err;
  const raw = (err ?? {}) as ImapFlowErrorLike;
  const e: ImapFlowErrorLike = { ...raw, message: raw.message, serverResponseCode: responseCode(raw) };
  const throttle = throttleDelay(e);
  if (throttle !== undefined) {
    return new ThrottleError(`${label} is throttling (${doing}): ${refusalText(err)}`, throttle, { cause: err });
  }
  // RFC 5530: a temporary failure (a backend down, a mailbox locked), also in answer to a LOGIN,
  // where imapflow takes it for a refused password. Tried again later, like a broken connection.
  if (e.serverResponseCode === 'UNAVAILABLE') {
    return new ConnectionError(`${label} is temporarily unavailable (${doing}): ${refusalText(err)}`, { cause: err });
  }
  // Before the generic check: imapflow also flags a LOGINDISABLED refusal as an authentication failure.
  if (e.serverResponseCode === 'PRIVACYREQUIRED' || /LOGINDISABLED|Login is disabled|plaintext authentication disallowed/i.test(`${e.message} ${e.responseText ?? ''}`)) {
    return new AuthError(`cannot log in to ${label}: the server refuses plaintext login (use imaps:// or a server with STARTTLS)`, { cause: err });
  }
  if (e.authenticationFailed || e.serverResponseCode === 'AUTHENTICATIONFAILED') {
    return new AuthError(`cannot log in to ${label}: authentication failed`, { cause: err });
  }
  if (e.serverResponseCode === 'OVERQUOTA') {
    return new QuotaError(`${label} is full: ${refusalText(err)}`, { cause: err });
  }
  if (e.tlsFailed || isTlsCode(e.code)) {
    return new PermanentConnectionError(`TLS failure with ${label}: ${e.message ?? e.code}`, { cause: err });
  }
  const silence = session && silenced.get(session);
  if (silence) {
    return new ConnectionError(`connection to ${label} failed while ${doing}: timed out (nothing received for ${silence / 1000} s, --timeout)`, { cause: err });
  }
  if (e.code && NETWORK_CODES.has(e.code)) {
    const Kind = e.code === 'ENOTFOUND' ? PermanentConnectionError : ConnectionError;
    return new Kind(`connection to ${label} failed while ${doing}: ${describeNetwork(e)}`, { cause: err });
  }
  if (isServerRefusal(err)) {
    return new FolderError(`${label} refused ${doing}: ${refusalText(err)}`, e.serverResponseCode?.toLowerCase() ?? 'refused');
  }
  if (session && sessionEnded(session)) return sessionLost(session, label, doing, err);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * How long to back off, if this is throttling: imapflow has already waited `throttleWaited` of a
 * Microsoft 365 hint; Gmail sends `[THROTTLED]` with no hint.
 */
function throttleDelay(e: ImapFlowErrorLike): number | undefined {
  if (e.code === 'ETHROTTLE') return Math.max(0, (e.throttleReset ?? DEFAULT_THROTTLE_MS) - (e.throttleWaited ?? 0));
  const text = `${e.serverResponseCode ?? ''} ${e.responseText ?? ''}`;
  const hint = /Request is throttled.*Backoff Time[:=\s]+(\d+)/i.exec(text);
  if (hint) return Number(hint[1]);
  if (/THROTTLED/i.test(text)) return DEFAULT_THROTTLE_MS;
  return undefined;
}

function isTlsCode(code: string | undefined): boolean {
  return !!code && (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code) || code === 'DEPTH_ZERO_SELF_SIGNED_CERT');
}

function describeNetwork(e: ImapFlowErrorLike): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'CONNECT_TIMEOUT':
    case 'GREETING_TIMEOUT':
    case 'ETIMEDOUT':
    case 'ETIMEOUT':
      return 'timed out';
    default:
      return e.reason ? `closed by the server (${e.reason})` : (e.message ?? e.code ?? 'error');
  }
}

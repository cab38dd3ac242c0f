import type { ExitKind } from '../errors/exit-codes.js';

/**
 * Which failed attempts are tried again within the run, and after how long. Only a transient
 * cause is (a connection lost or refused, a timeout, a BYE, throttling: exit kind `connection`,
 * not a certificate or an unknown host); a wrong password, a bad option, a full destination or a
 * used-up daily limit fail the same way again at once, and a rerun of the campaign retries them.
 */
export function isTransient(kind: ExitKind, permanent: boolean): boolean {
  return kind === 'connection' && !permanent;
}

export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_CAP_MS = 10 * 60_000;

/** Waits grow 30 s, 60 s, 120 s, ... up to 10 min; MAILFERRY_BULK_RETRY_BASE_MS shortens them (tests). */
export function backoffMs(retry: number, env: NodeJS.ProcessEnv = process.env): number {
  const base = Number(env.MAILFERRY_BULK_RETRY_BASE_MS) || BACKOFF_BASE_MS;
  return Math.min(BACKOFF_CAP_MS, base * 2 ** (retry - 1));
}

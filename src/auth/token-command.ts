import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UsageError } from '../errors/errors.js';
import type { IssuedToken } from './access-token.js';

const run = promisify(execFile);
/** A helper that needs longer (an interactive sign-in) is run before mailferry, not by it. */
const TIMEOUT_MS = 60_000;

/**
 * Runs the user's token command (`--from-oauth2-token-command`): its standard output is one OAuth2
 * access token, as helpers such as oama or mutt_oauth2.py print it. The command is run again
 * whenever the server refuses the token it gave, so a helper that refreshes on each call keeps a
 * long run signed in.
 */
export async function runTokenCommand(command: string, option: string): Promise<IssuedToken> {
  let stdout: string;
  try {
    ({ stdout } = await run('/bin/sh', ['-c', command], { timeout: TIMEOUT_MS, maxBuffer: 1 << 16 }));
  } catch (err) {
    // stderr is not echoed: a failing helper may print secrets or their context.
    const e = err as { code?: unknown; killed?: boolean; signal?: string | null };
    if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') throw new UsageError(`${option}: the command printed more than one access token's worth (64 KiB)`);
    if (e.killed) throw new UsageError(`${option}: the command did not finish within ${TIMEOUT_MS / 1000} s`);
    const why = typeof e.code === 'number' ? ` (exit ${e.code})` : e.signal ? ` (killed by ${e.signal})` : typeof e.code === 'string' ? ` (${e.code})` : '';
    throw new UsageError(`${option}: the command failed${why}`);
  }
  const token = stdout.trim();
  if (!token) throw new UsageError(`${option}: the command printed nothing`);
  // A SASL payload cannot carry whitespace or control characters (RFC 7628 §3.1).
  if (/[\s\x00-\x1f\x7f]/.test(token)) throw new UsageError(`${option}: expected one access token on standard output, got several words or lines`);
  return { accessToken: token };
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UsageError } from '../errors/errors.js';
import type { IssuedToken } from './access-token.js';

const run = promisify(execFile);

/**
 * Runs the user's token command (`--from-oauth2-token-command`): its standard output is one OAuth2
 * access token, as helpers such as oama or mutt_oauth2.py print it. The command is run again
 * whenever the server refuses the token it gave, so a helper that refreshes on each call keeps a
 * long run signed in.
 */
export async function runTokenCommand(command: string, option: string): Promise<IssuedToken> {
  let stdout: string;
  try {
    ({ stdout } = await run('/bin/sh', ['-c', command], { timeout: 60_000, maxBuffer: 1 << 16 }));
  } catch (err) {
    // stderr is not echoed: a failing helper may print secrets or their context.
    const code = (err as { code?: unknown }).code;
    throw new UsageError(`${option}: the command failed${code !== undefined ? ` (exit ${String(code)})` : ''}`);
  }
  const token = stdout.trim();
  if (!token) throw new UsageError(`${option}: the command printed nothing`);
  // A SASL payload cannot carry whitespace or control characters (RFC 7628 §3.1).
  if (/[\s\x00-\x1f\x7f]/.test(token)) throw new UsageError(`${option}: expected one access token on standard output, got several words or lines`);
  return { accessToken: token };
}

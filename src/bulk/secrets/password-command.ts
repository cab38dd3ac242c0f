import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UsageError } from '../../errors/errors.js';

const run = promisify(execFile);
const TIMEOUT_MS = 60_000;

/**
 * Runs one account's filled-in password command, without a shell: its standard output, trimmed,
 * is the password. stderr is not echoed (a failing password manager may print the secret's context).
 */
export async function runPasswordArgv(argv: readonly string[], option: string): Promise<string> {
  const [program, ...args] = argv as [string, ...string[]];
  let stdout: string;
  try {
    ({ stdout } = await run(program, args, { timeout: TIMEOUT_MS, maxBuffer: 1 << 16, shell: false, env: withoutPasswords(process.env) }));
  } catch (err) {
    const e = err as { code?: unknown; killed?: boolean; signal?: string | null };
    if (e.code === 'ENOENT') throw new UsageError(`${option}: cannot run ${program}: not found`);
    if (e.code === 'EACCES') throw new UsageError(`${option}: cannot run ${program}: permission denied`);
    if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') throw new UsageError(`${option}: the command printed more than 64 KiB`);
    if (e.killed) throw new UsageError(`${option}: the command did not finish within ${TIMEOUT_MS / 1000} s`);
    const why = typeof e.code === 'number' ? ` (exit ${e.code})` : e.signal ? ` (killed by ${e.signal})` : '';
    throw new UsageError(`${option}: the command failed${why}`);
  }
  const password = stdout.trim();
  if (!password) throw new UsageError(`${option}: the command printed nothing`);
  // `pass show` prints the whole entry; the password is its first line, which no shell cuts here.
  if (/[\r\n]/.test(password)) throw new UsageError(`${option}: the command printed several lines; a password is one (pass show: keep the password alone in its entry, or see docs/bulk.md)`);
  return password;
}

/** The command need not inherit the passwords a run may have been given for either side. */
function withoutPasswords(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MAILFERRY_FROM_PASSWORD: _from, MAILFERRY_TO_PASSWORD: _to, ...rest } = env;
  return rest;
}

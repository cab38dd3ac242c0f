import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { UsageError } from '../errors/errors.js';

const run = promisify(execFile);

/** Where one side's password may come from, in the order they are tried. */
export interface PasswordSources {
  /** e.g. MAILFERRY_FROM_PASSWORD */
  envVar: string;
  file?: string;
  command?: string;
  /** Password written into the account URL. */
  inUrl?: string;
  /** e.g. `--from` for messages. */
  option: string;
  /** Reads a password from the terminal; given only when stdin is a TTY. */
  prompt?: (question: string) => Promise<string>;
}

/**
 * Resolves a password: environment, then a 0600 file, then a command's stdout, then the URL,
 * then a prompt on a terminal. Never from a plain option, so it is not visible in `ps`.
 */
export async function resolvePassword(src: PasswordSources, env: NodeJS.ProcessEnv, warn: (m: string) => void): Promise<string> {
  const fromEnv = env[src.envVar];
  if (fromEnv) {
    // Children (a password command, a pager) need not inherit it.
    delete env[src.envVar];
    return fromEnv;
  }
  if (src.file) return readPasswordFile(src.file, `${src.option}-password-file`);
  if (src.command) return runPasswordCommand(src.command, `${src.option}-password-command`);
  if (src.inUrl !== undefined) {
    warn(`the password for ${src.option} is in the URL, where other users can see it in the process list; use ${src.envVar} or ${src.option}-password-file`);
    return src.inUrl;
  }
  if (src.prompt) return src.prompt(`Password for ${src.option}: `);
  throw new UsageError(`no password for ${src.option}: set ${src.envVar}, or use ${src.option}-password-file or ${src.option}-password-command`);
}

async function readPasswordFile(path: string, option: string): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    throw new UsageError(`${option}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new UsageError(`${option}: ${path} has mode ${(mode & 0o777).toString(8)}; other users can read it, run chmod 600 ${path}`);
  }
  const text = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  if (!text) throw new UsageError(`${option}: ${path} is empty`);
  return text;
}

async function runPasswordCommand(command: string, option: string): Promise<string> {
  try {
    const { stdout } = await run('/bin/sh', ['-c', command], { timeout: 60_000, maxBuffer: 1 << 16 });
    const text = stdout.trim();
    if (!text) throw new UsageError(`${option}: the command printed nothing`);
    return text;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // stderr is not echoed: a failing password manager may print the secret's context.
    const code = (err as { code?: unknown }).code;
    throw new UsageError(`${option}: the command failed${code !== undefined ? ` (exit ${String(code)})` : ''}`);
  }
}

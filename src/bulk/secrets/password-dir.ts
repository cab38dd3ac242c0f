import { statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors/errors.js';
import { readOwnerOnlyFile } from './owner-only-file.js';

/**
 * The file name of a login in a password directory: the login as it is, except that what a file
 * name cannot hold or would misread ('/', '%', NUL, control characters, a leading '.') is
 * percent-encoded. `alice@example.org` → `alice@example.org`; `dept/bob` → `dept%2Fbob`.
 */
export function passwordFileName(login: string): string {
  // eslint-disable-next-line no-control-regex
  const name = login.replace(/[%/\\\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return name.startsWith('.') ? `%2E${name.slice(1)}` : name;
}

/**
 * A directory of one password file per login (`--from-password-dir`). Checked when the campaign
 * starts: a directory others may write to would let them swap a password file for their own.
 */
export class PasswordDir {
  constructor(
    readonly dir: string,
    private readonly option: string,
  ) {
    let mode: number;
    try {
      const info = statSync(dir);
      if (!info.isDirectory()) throw new UsageError(`${option}: ${dir} is not a directory`);
      mode = info.mode & 0o777;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`${option}: cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if ((mode & 0o022) !== 0) throw new UsageError(`${option}: ${dir} has mode ${mode.toString(8)}; other users can replace its files, run chmod go-w ${dir}`);
  }

  /** The login's password: its file's one line (a final newline is not part of it). */
  async password(login: string): Promise<string> {
    const path = join(this.dir, passwordFileName(login));
    const text = (await readOwnerOnlyFile(path, this.option)).replace(/\r?\n$/, '');
    if (!text) throw new UsageError(`${this.option}: ${path} is empty`);
    if (/[\r\n]/.test(text)) throw new UsageError(`${this.option}: ${path} has more than one line`);
    return text;
  }
}

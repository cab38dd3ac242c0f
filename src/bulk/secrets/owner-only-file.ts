import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { UsageError } from '../../errors/errors.js';

/** A regular file no other user may read (mode 0600 or 0400), as text. */
export async function readOwnerOnlyFile(path: string, option: string): Promise<string> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    throw cannotRead(path, option, err);
  }
  checkMode(info, path, option);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw cannotRead(path, option, err);
  }
}

/** The same, at start-up (a key or secret read once, before any account starts). */
export function readOwnerOnlyFileSync(path: string, option: string): string {
  try {
    checkMode(statSync(path), path, option);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw cannotRead(path, option, err);
  }
}

function checkMode(info: Stats, path: string, option: string): void {
  if (!info.isFile()) throw new UsageError(`${option}: ${path} is not a regular file`);
  const mode = info.mode & 0o777;
  if ((mode & 0o077) !== 0) throw new UsageError(`${option}: ${path} has mode ${mode.toString(8)}; other users can read it, run chmod 600 ${path}`);
}

function cannotRead(path: string, option: string, err: unknown): UsageError {
  return new UsageError(`${option}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
}

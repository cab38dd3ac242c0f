import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ancestorWriteError } from '../ancestor-write-error.js';
import { LocalStorageError, MailferryError, QuotaError, UsageError } from '../errors/errors.js';

/**
 * A failure of the checkpoint file as what the user can do about it. Losing the checkpoint loses
 * nothing: a run without one matches what is already at the destination by content, so a damaged
 * one is to be moved aside. SQLite's own codes are on `code` (SQLITE_FULL, SQLITE_NOTADB, ...).
 */
export function checkpointFailure(err: unknown, file: string): Error {
  if (err instanceof MailferryError) return err;
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') err = ancestorWriteError(dirname(file)) ?? err;
  const code = String((err as { code?: unknown }).code ?? '');
  const detail = (err as Error).message ?? String(err);
  // SQLite reports a failed write of its WAL or shared memory as an I/O error, whatever the cause.
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || (code.startsWith('SQLITE_IOERR') && diskFull(file))) {
    return new QuotaError(`checkpoint ${file}: no space left on the disk; free space and rerun to resume`, { cause: err });
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new LocalStorageError(
      `checkpoint ${file} is damaged (${detail}); move it aside and rerun: the run then finds what was already copied by content`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') {
    return new LocalStorageError(`checkpoint ${file} cannot be written (${detail}): its directory is read-only; make it writable (migrate and restore: or give --state elsewhere)`, { cause: err });
  }
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) return new UsageError(`checkpoint ${file} is in use by another run`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM' || code.startsWith('SQLITE_CANTOPEN')) return new UsageError(`cannot open checkpoint ${file}: ${detail}`, { cause: err });
  if (code.startsWith('SQLITE_IOERR')) return new LocalStorageError(`checkpoint ${file}: disk error (${detail}); check the disk and rerun`, { cause: err });
  // Anything else (a constraint, a misuse) is a bug, and reported as one.
  return err instanceof Error ? err : new Error(detail);
}

/** Whether the file system holding `file` has (next to) no room left. */
function diskFull(file: string): boolean {
  try {
    const fs = statfsSync(dirname(file));
    return fs.bavail * fs.bsize < FULL_BELOW_BYTES;
  } catch {
    return false;
  }
}

/** Less than this left counts as full: SQLite needs whole pages, for the WAL and its index. */
const FULL_BELOW_BYTES = 1 << 20;

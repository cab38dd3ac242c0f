import { FolderError, LocalStorageError, MailferryError, QuotaError, UsageError } from '../../errors/errors.js';

/**
 * What a failed file-system call means for the run, in the store contract's terms: a full disk
 * stops the destination like an IMAP quota (a rerun resumes), a permission problem is the user's
 * to fix, anything else makes this one folder unusable while the others go on.
 */
export function localFailure(err: unknown, doing: string): Error {
  if (err instanceof MailferryError || err instanceof FolderError) return err;
  return environmentFailure(err, doing) ?? new FolderError(`${doing}: ${(err as Error).message ?? String(err)}`, (err as NodeJS.ErrnoException).code ?? 'io-error');
}

/**
 * The same for a file the whole run depends on (the manifest, the backup directory, the
 * checkpoint's): there is no folder to fail alone, so any other error makes the files unusable.
 */
export function fileFailure(err: unknown, doing: string): MailferryError {
  if (err instanceof MailferryError) return err;
  return environmentFailure(err, doing) ?? new LocalStorageError(`${doing}: ${(err as Error).message ?? String(err)}`, { cause: err });
}

/** A fault of the machine rather than of one file, with what to do about it; else undefined. */
function environmentFailure(err: unknown, doing: string): MailferryError | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  const detail = (err as Error).message ?? String(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new QuotaError(`${doing}: no space left on the disk; free space and rerun to resume`, { cause: err });
  if (code === 'EROFS') return new LocalStorageError(`${doing}: the file system is read-only; make it writable or choose another directory`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new UsageError(`${doing}: ${detail}`, { cause: err });
  return undefined;
}

/** Runs one store operation, translating file-system errors with `localFailure`. */
export async function guarded<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw localFailure(err, doing);
  }
}

import { FolderError, MailferryError, QuotaError, UsageError } from '../../errors/errors.js';

/**
 * What a failed file-system call means for the run, in the store contract's terms: a full disk
 * stops the destination like an IMAP quota (a rerun resumes), a permission problem is the user's
 * to fix, anything else makes this one folder unusable while the others go on.
 */
export function localFailure(err: unknown, doing: string): Error {
  if (err instanceof MailferryError || err instanceof FolderError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const detail = (err as Error).message ?? String(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new QuotaError(`${doing}: no space left on the backup's disk`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new UsageError(`${doing}: ${detail}`, { cause: err });
  return new FolderError(`${doing}: ${detail}`, code ?? 'io-error');
}

/** Runs one store operation, translating file-system errors with `localFailure`. */
export async function guarded<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw localFailure(err, doing);
  }
}

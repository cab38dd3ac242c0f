import { FolderError, MailferryError, UsageError } from '../errors/errors.js';

/** One entry of an archive being read back. */
export interface ArchiveEntry {
  /** The path inside the archive, '/'-separated, without `./` or a trailing `/`. */
  name: string;
  /** `other`: a symlink, hard link or device, which a mailferry backup never holds. */
  type: 'file' | 'directory' | 'other';
  mtime: Date;
}

/** Takes an entry's bytes when the visitor wants them. */
export type EntrySink = (data: AsyncIterable<Buffer>) => Promise<void>;

/**
 * Called for every entry in archive order; returns a sink for a file whose bytes it wants.
 * Entries are visited one at a time, each drained before the next: memory stays bounded.
 */
export type EntryVisitor = (entry: ArchiveEntry) => Promise<EntrySink | undefined>;

/**
 * An entry's name, checked the way the backup writer checks the paths it writes (folder-path.ts):
 * an archive that names an absolute path, a `..` level, an empty level or a NUL is not one
 * mailferry wrote, and nothing of it is extracted. The archive's top itself is ''.
 */
export function entryName(raw: string, archive: string): string {
  const refuse = (): UsageError => new UsageError(`${archive}: unsafe entry name ${JSON.stringify(raw)}; this is not an archive mailferry wrote`);
  if (raw.startsWith('/') || raw.includes('\0')) throw refuse();
  const name = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  // `./` itself: the top of an archive made with `tar -C DIR .`.
  if (name === '' || name === '.') return '';
  if (name.split('/').some((l) => l === '' || l === '.' || l === '..')) throw refuse();
  return name;
}

/**
 * What a failure while walking an archive means: ours (a refused entry, the disk) is passed on;
 * anything else came from decompressing or parsing, so the archive is damaged or not one.
 */
export function walkFailure(err: unknown, file: string, kind: string): unknown {
  if (err instanceof MailferryError || err instanceof FolderError || (err as NodeJS.ErrnoException).syscall !== undefined) return err;
  return new UsageError(`${file}: not a readable ${kind} (${(err as Error).message ?? err})`, { cause: err });
}

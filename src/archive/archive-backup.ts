import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ArchiveError, LocalStorageError, MailferryError, QuotaError, UsageError } from '../errors/errors.js';
import { fsyncDir } from '../stores/local/safe-fs.js';
import { archivePath, isArchiveOf, type ArchivePlan } from './archive-pattern.js';
import { listTree, sha256File, type TreeEntry } from './backup-tree.js';
import { readArchive } from './read-archive.js';
import { writeArchive } from './write-archive.js';
import { counted } from '../reporting/plural.js';

export interface ArchiveOutcome {
  path: string;
  /** Older archives deleted by `--keep`. */
  removed: string[];
}

/**
 * Packs the backup directory into one archive and proves it: the archive is written under a
 * temporary name, read back in full, every file's SHA-256 compared with the backup's, and only
 * then renamed to its final name. So a file with the final name is always a whole, readable
 * archive. `keep` then deletes all but that many newest archives of the same pattern.
 */
export async function archiveBackup(root: string, plan: ArchivePlan, date: Date, keep?: number): Promise<ArchiveOutcome> {
  const target = archivePath(plan, date);
  const temp = `${target}.partial-${process.pid}`;
  try {
    await fs.mkdir(plan.dir, { recursive: true, mode: 0o700 });
    const entries = await listTree(root);
    await fs.rm(temp, { force: true });
    await writeArchive(entries, plan.kind, temp);
    await verify(temp, plan, entries);
    await fs.rename(temp, target);
    await fsyncDir(plan.dir);
    return { path: target, removed: keep !== undefined ? await prune(plan, keep) : [] };
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw archiveFailure(err, target);
  }
}

async function verify(file: string, plan: ArchivePlan, entries: readonly TreeEntry[]): Promise<void> {
  const archived = await readArchive(file, plan.kind);
  for (const e of entries) {
    const got = archived.get(e.name);
    if (!got || got.type !== e.type) throw new ArchiveError(`${file} does not hold ${e.name}`);
    if (e.type === 'file' && (got.size !== e.size || got.sha256 !== (await sha256File(e.path)))) {
      throw new ArchiveError(`${file}: ${e.name} does not read back as it is in the backup`);
    }
  }
  if (archived.size !== entries.length) throw new ArchiveError(`${file} holds ${counted(archived.size, 'entry', 'entries')}, the backup ${entries.length}`);
}

/** Newest first by modification time: the archive just written is always kept. */
async function prune(plan: ArchivePlan, keep: number): Promise<string[]> {
  const archives = await Promise.all(
    (await fs.readdir(plan.dir))
      .filter((name) => isArchiveOf(plan, name))
      .map(async (name) => ({ file: path.join(plan.dir, name), mtime: (await fs.stat(path.join(plan.dir, name))).mtimeMs })),
  );
  archives.sort((a, b) => b.mtime - a.mtime || (a.file < b.file ? 1 : -1));
  const removed = archives.slice(keep).map((a) => a.file);
  for (const file of removed) await fs.rm(file, { force: true });
  return removed;
}

function archiveFailure(err: unknown, target: string): Error {
  if (err instanceof MailferryError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new QuotaError(`writing ${target}: no space left on the disk; the backup itself is complete`, { cause: err });
  if (code === 'EROFS') return new LocalStorageError(`writing ${target}: the file system is read-only; the backup itself is complete`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new UsageError(`writing ${target}: ${(err as Error).message}`, { cause: err });
  return new ArchiveError(`writing ${target}: ${(err as Error).message ?? err}; the backup itself is complete`, { cause: err });
}

import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { FolderError } from '../../errors/errors.js';

/**
 * File-system steps of correctness.md §3.4 (path safety) and §4.2 (durability) that the local
 * stores share. Modes are set with chmod after creation, never left to the umask: a backup holds
 * private mail (directories 0700, files 0600, §3.5).
 */

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** O_EXCL: never reuse a name; O_NOFOLLOW: never write through a planted symlink. */
const CREATE_FLAGS = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;

/**
 * Creates `segments` under `root` one level at a time (0700). An existing level must be a real
 * directory: a symlink or a file there means someone else's tree, and is refused.
 */
export async function ensureDirs(root: string, segments: readonly string[]): Promise<void> {
  let current = root;
  for (const segment of segments) {
    current = path.join(current, segment);
    await ensureDir(current);
  }
}

export async function ensureDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { mode: DIR_MODE });
    await fs.chmod(dir, DIR_MODE);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = await fs.lstat(dir);
  if (!st.isDirectory()) throw new FolderError(`${dir} exists and is not a directory (${st.isSymbolicLink() ? 'a symlink' : 'a file'})`, 'unsafe-path');
}

/**
 * A new file opened for writing, 0600; fails if the name exists or is a symlink. Created with
 * mode 0600 it can only lose bits to the umask, never gain any, so the chmod (one more file-system
 * call per backed-up message) is needed only where the umask takes owner bits.
 */
export async function createExclusive(file: string): Promise<fs.FileHandle> {
  const handle = await fs.open(file, CREATE_FLAGS, FILE_MODE);
  if ((process.umask() & FILE_MODE) === 0) return handle;
  try {
    await handle.chmod(FILE_MODE);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

/** Makes the directory entries (creations, renames, unlinks) in `dir` survive a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` with `data` so a reader (or a crash) sees the old content or the new, never a
 * mix: a fsynced temporary beside it, renamed over it, then the directory fsynced.
 */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  await fs.rm(temp, { force: true });
  const handle = await createExclusive(temp);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (err) {
    // A full disk must not leave a half-written temporary beside the file.
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

/** Whether `p` exists as a directory (not through a symlink). */
export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.lstat(p)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Runs `fn` over `items` with at most `limit` in flight (fsyncs overlap on the device queue).
 * After a failure no item is started, and it returns (rethrowing the first error) only once none
 * is running, so a caller's cleanup never races an item still in flight.
 */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

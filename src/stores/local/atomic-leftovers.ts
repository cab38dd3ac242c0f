import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** `FILE.tmp-PID`: what writeFileAtomic (safe-fs.ts) leaves when its process dies before the rename. */
const LEFTOVER = /\.tmp-(\d+)$/;
/** Maildir message directories: never holding such files, and too big to list on every run. */
const MESSAGE_DIRS = new Set(['cur', 'new', 'tmp']);

/**
 * Removes the temporaries of atomic writes (`dovecot-uidlist`, `dovecot-keywords`, indexes, the
 * manifest) that a killed run left in the backup directory `root`. A rerun only rewrites the files
 * of folders that changed, so without this they would stay for good. Call it only while holding
 * the backup's lock: then no other process is writing one. Returns the paths removed.
 */
export async function removeAtomicLeftovers(root: string): Promise<string[]> {
  const removed: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      const pid = LEFTOVER.exec(entry.name)?.[1];
      if (entry.isDirectory() && !MESSAGE_DIRS.has(entry.name)) await visit(p);
      else if (entry.isFile() && pid !== undefined && pid !== String(process.pid)) {
        await fs.rm(p, { force: true });
        removed.push(p);
      }
    }
  };
  await visit(root);
  return removed;
}

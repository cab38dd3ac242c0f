import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ArchiveError } from '../errors/errors.js';

/** One file or directory of a backup, as it goes into an archive. */
export interface TreeEntry {
  /** The backup directory's own name, then the path inside it, '/'-separated. */
  name: string;
  path: string;
  type: 'file' | 'directory';
  mode: number;
  mtime: Date;
  size: number;
}

/** Every directory and file under `root` (root first, then depth-first in name order). */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const visit = async (abs: string, name: string): Promise<void> => {
    const st = await fs.lstat(abs);
    if (!st.isFile() && !st.isDirectory()) throw new ArchiveError(`${abs} is neither a file nor a directory; a backup holds only those`);
    out.push({ name, path: abs, type: st.isFile() ? 'file' : 'directory', mode: st.mode & 0o7777, mtime: st.mtime, size: st.isFile() ? st.size : 0 });
    if (st.isDirectory()) {
      for (const child of (await fs.readdir(abs)).sort()) await visit(path.join(abs, child), `${name}/${child}`);
    }
  };
  await visit(path.resolve(root), path.basename(path.resolve(root)));
  return out;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

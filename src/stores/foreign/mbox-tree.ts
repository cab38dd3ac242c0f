import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TreeFolder } from './foreign-tree.js';
import { loadMboxFile } from './mbox-file.js';

const FROM_ = Buffer.from('From ');

/**
 * The mbox files under `root` (or `root` itself, when it is a file), each one folder. A file is
 * an mbox when it starts with `From `; anything else (Thunderbird's `.msf` indexes, empty files,
 * notes) is counted in `ignored`. Folder levels are the path's, without a `.mbox` extension on
 * files and without Thunderbird's `.sbd` on directories: `Mail/Inbox.sbd/Lists` is Inbox/Lists,
 * a mailferry-style `Work.mbox` beside `Work/Sub.mbox` gives Work and Work/Sub. A single file
 * is one folder named after it: `Takeout.mbox` is Takeout. Hidden entries and symlinks are not
 * followed.
 */
export async function findMboxFiles(root: string): Promise<{ folders: TreeFolder[]; ignored: number }> {
  const folders: TreeFolder[] = [];
  let ignored = 0;
  const consider = async (file: string, rel: string[]): Promise<void> => {
    if (!(await startsWithFrom(file))) {
      ignored++;
      return;
    }
    const components = rel.map((level, i) => (i === rel.length - 1 ? level.replace(/\.mbox$/i, '') : level.replace(/\.sbd$/i, '')));
    // Counting an mbox's messages means reading it: its counters come with the listing.
    folders.push({ name: rel.join('/'), components, load: () => loadMboxFile(file) });
  };
  const visit = async (dir: string, rel: string[]): Promise<void> => {
    for (const child of await fs.readdir(dir, { withFileTypes: true })) {
      if (child.name.startsWith('.')) continue;
      const at = path.join(dir, child.name);
      if (child.isDirectory()) await visit(at, [...rel, child.name]);
      else if (child.isFile()) await consider(at, [...rel, child.name]);
    }
  };
  if ((await fs.lstat(root)).isFile()) await consider(root, [path.basename(root)]);
  else await visit(root, []);
  return { folders, ignored };
}

async function startsWithFrom(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(FROM_.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(FROM_);
  } finally {
    await handle.close();
  }
}

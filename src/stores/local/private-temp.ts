import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { processRunning } from '../../process-running.js';
import { DIR_MODE } from './safe-fs.js';

/**
 * A new directory for private mail kept for a while (`purpose`: mail extracted from an archive, a
 * spool of downloaded messages): under `root` ($TMPDIR), 0700, named with our PID. A run killed
 * with SIGKILL cannot remove its directory, so each new one first removes those of processes that
 * no longer run (only directories of this user).
 */
export async function privateTempDir(purpose: 'archive' | 'spool', root = tmpdir()): Promise<string> {
  const prefix = `mailferry-${purpose}-`;
  await removeAbandoned(root, prefix);
  const dir = await fs.mkdtemp(path.join(root, `${prefix}${process.pid}-`));
  await fs.chmod(dir, DIR_MODE);
  return dir;
}

async function removeAbandoned(root: string, prefix: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]) : 0;
    if (!pid || pid === process.pid || processRunning(pid)) continue;
    const dir = path.join(root, name);
    const st = await fs.lstat(dir).catch(() => undefined);
    if (st?.isDirectory() && st.uid === process.getuid?.()) await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DIR_MODE } from '../stores/local/safe-fs.js';

const PREFIX = 'mailferry-archive-';
const OURS = /^mailferry-archive-(\d+)-/;

/**
 * A new directory for mail extracted from an archive: under $TMPDIR, 0700 (it holds private
 * mail), named with our PID. A run killed with SIGKILL cannot remove its directory, so each new
 * one first removes those of processes that no longer run (only directories of this user).
 */
export async function privateTempDir(): Promise<string> {
  await removeAbandoned();
  const dir = await fs.mkdtemp(path.join(tmpdir(), `${PREFIX}${process.pid}-`));
  await fs.chmod(dir, DIR_MODE);
  return dir;
}

async function removeAbandoned(): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(OURS.exec(name)?.[1]);
    if (!pid || pid === process.pid || running(pid)) continue;
    const dir = path.join(tmpdir(), name);
    const st = await fs.lstat(dir).catch(() => undefined);
    if (st?.isDirectory() && st.uid === process.getuid?.()) await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

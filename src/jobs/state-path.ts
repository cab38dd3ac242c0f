import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Default checkpoint location: one file per (source, destination) pair under
 * $XDG_STATE_HOME/mailferry/ (never a temp dir, which a reboot may empty).
 */
export function defaultStatePath(source: string, dest: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  const id = createHash('sha256').update(`${source}\n${dest}`).digest('hex').slice(0, 16);
  return join(base, 'mailferry', `${id}.sqlite`);
}

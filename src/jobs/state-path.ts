import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Default checkpoint location: one file per (source, destination) pair under
 * $XDG_STATE_HOME/mailferry/ (never a temp dir, which a reboot may empty).
 */
export function defaultStatePath(source: string, dest: string, env: NodeJS.ProcessEnv = process.env): string {
  const id = createHash('sha256').update(`${source}\n${dest}`).digest('hex').slice(0, 16);
  return join(stateDir(env), `${id}.sqlite`);
}

/** mailferry's state directory: the default checkpoints and the destination locks (whatever `--state` says). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'mailferry');
}

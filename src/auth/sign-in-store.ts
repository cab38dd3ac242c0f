import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors/errors.js';

/**
 * A sign-in saved by `mailferry login`: what it takes to get access tokens without the user,
 * i.e. the refresh token and the client it was issued to. Kept in its own 0600 file under
 * $XDG_CONFIG_HOME/mailferry/oauth2/, never in a checkpoint or a log.
 */
const storedSignInSchema = z.strictObject({
  version: z.literal(1),
  /** The profile signed in with (gmail, microsoft365, ...). */
  profile: z.string().min(1),
  /** The login it was saved for, as in the account URL. */
  user: z.string().min(1),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1).optional(),
  tokenUrl: z.url(),
  scopes: z.array(z.string()),
  refreshToken: z.string().min(1),
  savedAt: z.string(),
});

export type StoredSignIn = z.infer<typeof storedSignInSchema>;

export function signInPath(profile: string, user: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  // The user part is percent-encoded so an address (or 'dom\user') is one safe file name.
  return join(base, 'mailferry', 'oauth2', profile, `${encodeURIComponent(user)}.json`);
}

export async function readSignIn(path: string, option: string, loginHint: string): Promise<StoredSignIn> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${option}: no sign-in saved at ${path}; run ${loginHint} first`);
    throw new UsageError(`${option}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new UsageError(`${option}: ${path} has mode ${(mode & 0o777).toString(8)}; other users can read the refresh token, run chmod 600 ${path}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new UsageError(`${option}: ${path} is not valid JSON; run ${loginHint} again`);
  }
  const checked = storedSignInSchema.safeParse(parsed);
  if (!checked.success) throw new UsageError(`${option}: ${path}: ${checked.error.issues[0]!.path.join('.') || 'file'}: ${checked.error.issues[0]!.message}`);
  return checked.data;
}

/** Writes atomically (temporary file, then rename), readable by the owner only, in a 0700 directory. */
export async function writeSignIn(path: string, signIn: StoredSignIn): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(signIn, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

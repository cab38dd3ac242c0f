import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { FolderStatus, MessageMeta } from '../../domain/types.js';
import { Keywords } from '../maildir/keywords.js';
import { baseOf, flagsOf } from '../maildir/maildir-names.js';
import { toCrlf } from './crlf.js';
import { ListedFolder, listedStatus } from './listed-folder.js';

/**
 * One Maildir folder another program wrote (Dovecot, mbsync, OfflineIMAP, notmuch, mutt): the
 * files in `cur/` and `new/` (names starting with `.` excepted, as the Maildir spec says). Flags
 * come from the `:2,` info (D F P R S T; `P` as $Forwarded), keyword letters a-z from the folder's
 * `dovecot-keywords` where there is one; INTERNALDATE is the file's modification time, as
 * Dovecot serves it. UIDs follow the order of the base names (the part before `:2,`, which flag
 * changes leave alone); a `dovecot-uidlist` is not trusted, since files it does not list would
 * have to be numbered anyway. Bytes are the file's, with bare LF as CRLF.
 */
export async function maildirStatus(dir: string): Promise<FolderStatus> {
  const files = await messageFiles(dir);
  return listedStatus(identity(files), files.length);
}

export async function loadMaildir(dir: string): Promise<ListedFolder> {
  const files = await messageFiles(dir);
  const keywords = await Keywords.load(dir);
  const metas: MessageMeta[] = [];
  const paths = new Map<number, string>();
  for (const [i, f] of files.entries()) {
    const file = path.join(dir, f.sub, f.name);
    const raw = await readIfPresent(file);
    if (!raw) continue;
    // UIDs are positions among every listed file, so one that vanished leaves a gap, not a shift.
    const uid = i + 1;
    paths.set(uid, file);
    metas.push({ uid, size: toCrlf(raw.bytes).length, flags: flagsOf(f.name, keywords), internalDate: raw.mtime });
  }
  return new ListedFolder(listedStatus(identity(files), files.length), metas, async (uid) => {
    const read = await readIfPresent(paths.get(uid)!);
    return read ? toCrlf(read.bytes) : undefined;
  });
}

interface MessageFile {
  sub: 'cur' | 'new';
  name: string;
  base: string;
}

/** Message files in base-name order; a base in both `new/` and `cur/` (a move caught halfway) counts once. */
async function messageFiles(dir: string): Promise<MessageFile[]> {
  const byBase = new Map<string, MessageFile>();
  for (const sub of ['new', 'cur'] as const) {
    for (const entry of await entries(path.join(dir, sub))) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const base = baseOf(entry.name);
      byBase.set(base, { sub, name: entry.name, base });
    }
  }
  return [...byBase.values()].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
}

/** What the UIDs are computed from: the sorted base names. */
function identity(files: readonly MessageFile[]): string {
  return `maildir\n${files.map((f) => f.base).join('\n')}`;
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function readIfPresent(file: string): Promise<{ bytes: Buffer; mtime: Date } | undefined> {
  try {
    const handle = await fs.open(file, 'r');
    try {
      const [bytes, st] = await Promise.all([handle.readFile(), handle.stat()]);
      return { bytes, mtime: st.mtime };
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { walkTarGz } from '../../archive/walk-tar-gz.js';
import { walkZip } from '../../archive/walk-zip.js';
import { privateTempDir } from '../../stores/local/private-temp.js';
import { createExclusive, DIR_MODE } from '../../stores/local/safe-fs.js';

/** What a backup's checkpoint says one folder should hold: its messages' UIDs in the backup, with SHA-256. */
export type RecordedFolders = Map<string, Map<number, string>>;

const STATE_FILE = path.join('.mailferry', 'state.sqlite');

/**
 * The SHA-256 the backup run recorded for each message it wrote (`backup` keeps its checkpoint in
 * the backup's own `.mailferry/state.sqlite`), by backup folder and UID; undefined when the
 * directory has no checkpoint (a backup copied without it). Opened read-only.
 */
export function readBackupRecords(dir: string): RecordedFolders | undefined {
  const file = path.join(dir, STATE_FILE);
  if (!fs.existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT f.dest_name AS folder, m.dest_uid AS uid, COALESCE(m.dest_sha256, m.sha256) AS sha256
         FROM messages m JOIN folders f ON f.id = m.folder_id
         WHERE m.state = 'done' AND m.dest_uid IS NOT NULL AND m.src_uidvalidity = f.src_uidvalidity`,
      )
      .all() as Array<{ folder: string; uid: number; sha256: string | null }>;
    const out: RecordedFolders = new Map();
    for (const r of rows) {
      if (!r.sha256) continue;
      let folder = out.get(r.folder);
      if (!folder) out.set(r.folder, (folder = new Map()));
      folder.set(r.uid, r.sha256);
    }
    return out;
  } finally {
    db.close();
  }
}

/**
 * The same records from an archive of a backup directory: its `.mailferry/state.sqlite` (and a
 * write-ahead log beside it) streamed into a private temporary directory, read, and removed.
 * Undefined when the archive holds no checkpoint.
 */
export async function readArchiveRecords(file: string): Promise<RecordedFolders | undefined> {
  const walk = /\.zip$/i.test(file) ? walkZip : walkTarGz;
  const root = await privateTempDir('archive');
  try {
    await fsp.mkdir(path.join(root, '.mailferry'), { mode: DIR_MODE });
    let found = false;
    await walk(file, async (entry) => {
      const m = /^(?:[^/]+\/)?\.mailferry\/(state\.sqlite(?:-wal)?)$/.exec(entry.name);
      if (!m || entry.type !== 'file') return undefined;
      found ||= m[1] === 'state.sqlite';
      return async (data) => {
        const handle = await createExclusive(path.join(root, '.mailferry', m[1]!));
        try {
          for await (const chunk of data) await handle.write(chunk);
        } finally {
          await handle.close();
        }
      };
    });
    return found ? readBackupRecords(root) : undefined;
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
}

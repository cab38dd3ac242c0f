import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What a backup's checkpoint says one folder should hold: its messages' UIDs in the backup, with SHA-256. */
export type RecordedFolders = Map<string, Map<number, string>>;

const STATE_FILE = path.join('.mailferry', 'state.sqlite');

/**
 * The SHA-256 the backup run recorded for each message it wrote (`backup` keeps its checkpoint in
 * the backup's own `.mailferry/state.sqlite`), by backup folder and UID; undefined when the
 * directory has no checkpoint (a backup copied without it, or an archive). Opened read-only.
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

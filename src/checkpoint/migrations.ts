import type Database from 'better-sqlite3';
import { UsageError } from '../errors/errors.js';

/**
 * Ordered schema steps keyed by PRAGMA user_version: a checkpoint written by an older mailferry
 * is upgraded in place, never reinterpreted. Append new steps; never edit a released one.
 */
const STEPS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE lock (pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL);
   CREATE TABLE folders (
     id INTEGER PRIMARY KEY,
     src_name TEXT NOT NULL UNIQUE,
     src_uidvalidity INTEGER NOT NULL,
     src_uidnext INTEGER NOT NULL,
     src_modseq TEXT,
     done_through INTEGER NOT NULL,
     dest_name TEXT NOT NULL,
     dest_uidvalidity INTEGER
   );
   CREATE TABLE messages (
     folder_id INTEGER NOT NULL REFERENCES folders (id),
     src_uidvalidity INTEGER NOT NULL,
     src_uid INTEGER NOT NULL,
     size INTEGER NOT NULL,
     internal_date INTEGER NOT NULL,
     flags TEXT NOT NULL,
     sha256 TEXT,
     state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'skipped', 'failed')),
     reason TEXT,
     dest_uid INTEGER,
     dest_floor INTEGER,
     PRIMARY KEY (folder_id, src_uidvalidity, src_uid)
   ) WITHOUT ROWID;
   CREATE INDEX messages_state ON messages (folder_id, src_uidvalidity, state);`,
  // Bytes moved per account and UTC day, for providers' daily caps.
  `CREATE TABLE usage (
     account TEXT NOT NULL,
     day TEXT NOT NULL,
     bytes_down INTEGER NOT NULL DEFAULT 0,
     bytes_up INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (account, day)
   );`,
  // When an APPEND intent was written, so a rerun knows how young an unanswered APPEND is.
  `ALTER TABLE messages ADD COLUMN intent_at INTEGER;`,
  // The SHA-256 of the copy a destination server stored with other bytes than it was sent.
  `ALTER TABLE messages ADD COLUMN dest_sha256 TEXT;`,
  // The search criteria a folder's rows "not-matching-search" were judged by (engine/checkpoint.ts).
  `ALTER TABLE folders ADD COLUMN search TEXT;`,
  // Rows of copies `migrate --propagate-deletes` removes at the destination: `removing` is the
  // intent written before the EXPUNGE, `removed` the outcome. SQLite cannot widen a CHECK, so the
  // table is rebuilt as it was with two more states.
  `CREATE TABLE messages_new (
     folder_id INTEGER NOT NULL REFERENCES folders (id),
     src_uidvalidity INTEGER NOT NULL,
     src_uid INTEGER NOT NULL,
     size INTEGER NOT NULL,
     internal_date INTEGER NOT NULL,
     flags TEXT NOT NULL,
     sha256 TEXT,
     state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'skipped', 'failed', 'removing', 'removed')),
     reason TEXT,
     dest_uid INTEGER,
     dest_floor INTEGER,
     intent_at INTEGER,
     dest_sha256 TEXT,
     PRIMARY KEY (folder_id, src_uidvalidity, src_uid)
   ) WITHOUT ROWID;
   INSERT INTO messages_new SELECT folder_id, src_uidvalidity, src_uid, size, internal_date, flags, sha256, state, reason, dest_uid, dest_floor, intent_at, dest_sha256 FROM messages;
   DROP TABLE messages;
   ALTER TABLE messages_new RENAME TO messages;
   CREATE INDEX messages_state ON messages (folder_id, src_uidvalidity, state);`,
];

export const SCHEMA_VERSION = STEPS.length;

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new UsageError(`checkpoint schema ${current} is newer than this mailferry understands (${SCHEMA_VERSION})`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(STEPS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import type { Checkpoint, FolderState, MessageRow, MessageState } from '../engine/checkpoint.js';
import { UsageError } from '../errors/errors.js';
import { processRunning } from '../process-running.js';
import { checkpointFailure } from './checkpoint-errors.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';

export interface CheckpointIdentity {
  /** Password-free labels of both sides; a checkpoint belongs to exactly one pair. */
  source: string;
  dest: string;
}

interface FolderRecord {
  id: number;
  src_name: string;
  src_uidvalidity: number;
  src_uidnext: number;
  src_modseq: string | null;
  done_through: number;
  dest_name: string;
  dest_uidvalidity: number | null;
  search: string | null;
}

interface MessageRecord {
  src_uid: number;
  size: number;
  internal_date: number;
  flags: string;
  sha256: string | null;
  state: MessageState;
  reason: string | null;
  dest_uid: number | null;
  dest_floor: number | null;
  intent_at: number | null;
  dest_sha256: string | null;
}

/**
 * The journal in one SQLite file, in WAL mode. A row written as `pending` must survive power loss
 * before its APPEND goes out, or a crash could leave a message at the destination that no journal
 * knows of (mbsync fsyncs its journal for the same reason): a transaction that records an APPEND
 * intent is made durable with an fsync before it returns. Nothing else needs one: outcomes,
 * folder progress and usage lost to a power loss leave rows pending or folders unfinished, which
 * the next run settles by looking at the destination, as after any crash. So other commits are
 * not synced (synchronous=NORMAL: still durable when the process is killed, and WAL commits are
 * ordered, so the next synced one covers them); better-sqlite3 blocks the event loop during an
 * fsync, and syncing every commit held up every connection (at 40 ms RTT about a tenth of the run).
 * Rows are written in one transaction per batch. No password and no message body is ever stored here.
 */
export class SqliteCheckpoint implements Checkpoint {
  private readonly db: Database.Database;
  private readonly folderIds = new Map<string, number>();
  /** Set when the transaction under way records an APPEND intent (a `pending` row). */
  private intents = false;

  private constructor(readonly location: string, db: Database.Database, private readonly readOnly = false) {
    this.db = db;
  }

  /**
   * For a dry run: the checkpoint as it stands, read without writing anything (no lock, no schema
   * upgrade); undefined when there is none yet.
   */
  static openReadOnly(path: string, identity: CheckpointIdentity, owner?: CheckpointIdentity): SqliteCheckpoint | undefined {
    if (!existsSync(path)) return undefined;
    let db: Database.Database;
    try {
      db = readWithoutWriting(path);
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version === 0) {
        // Created but never written to: nothing recorded yet.
        db.close();
        return undefined;
      }
      if (version > SCHEMA_VERSION) throw new Error(`checkpoint schema ${version} is newer than this mailferry understands (${SCHEMA_VERSION})`);
    } catch (err) {
      throw checkpointFailure(err, path);
    }
    const cp = new SqliteCheckpoint(path, db, true);
    cp.checkIdentity(identity, owner);
    return cp;
  }

  /**
   * `owner`: the accounts the checkpoint names when the caller has judged them to be this run's,
   * reached another way (jobs/checkpoint-owner.ts); any other pair is refused. Every failure, here
   * and in each method, is one of `checkpointFailure`: a full disk, a damaged file, ...
   */
  static open(path: string, identity: CheckpointIdentity, owner?: CheckpointIdentity): SqliteCheckpoint {
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      db = new Database(path, { timeout: BUSY_WAIT_MS });
      chmodSync(path, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
      const cp = new SqliteCheckpoint(path, db);
      cp.checkIdentity(identity, owner);
      cp.lock();
      return cp;
    } catch (err) {
      db?.close();
      throw checkpointFailure(err, path);
    }
  }

  /**
   * The pair of accounts a checkpoint file names, or undefined when there is none yet (or it cannot
   * be read). `forWriting`: the caller writes to it next anyway, so it is opened in place (and its
   * close leaves no -wal or -shm file behind) instead of being read whole into memory, which for
   * a 200,000-message journal cost 30 MB and a quarter of a second before every run.
   */
  static ownerOf(path: string, forWriting = false): CheckpointIdentity | undefined {
    if (!existsSync(path)) return undefined;
    let db: Database.Database | undefined;
    try {
      db = forWriting ? new Database(path, { fileMustExist: true, timeout: BUSY_WAIT_MS }) : readWithoutWriting(path);
      const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
      return hasMeta ? readIdentity(db) : undefined;
    } catch {
      // Unreadable here (damaged, a read-only directory, ...): open() says what is wrong with it.
      return undefined;
    } finally {
      db?.close();
    }
  }

  private checkIdentity(identity: CheckpointIdentity, owner?: CheckpointIdentity): void {
    const { source, dest } = readIdentity(this.db) ?? {};
    if (source === undefined) {
      if (this.readOnly) return;
      const put = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      this.db.transaction(() => {
        put.run('source', identity.source);
        put.run('dest', identity.dest);
      })();
    } else if ((source !== identity.source || dest !== identity.dest) && (source !== owner?.source || dest !== owner?.dest)) {
      throw new UsageError(`checkpoint ${this.location} belongs to ${source} -> ${dest}, not ${identity.source} -> ${identity.dest}`);
    }
  }

  /**
   * One writer at a time: a lock row naming the holder, taken inside an IMMEDIATE transaction.
   * A lock whose process is gone (kill -9) is taken over.
   */
  private lock(): void {
    const me = { pid: process.pid, host: hostname() };
    this.db.transaction(() => {
      const row = this.db.prepare<[], { pid: number; host: string; since: string }>('SELECT pid, host, since FROM lock').get();
      if (row && !(row.host === me.host && !processRunning(row.pid)) && !(row.pid === me.pid && row.host === me.host)) {
        throw new UsageError(`checkpoint ${this.location} is in use by process ${row.pid} on ${row.host} since ${row.since}`);
      }
      this.db.prepare('DELETE FROM lock').run();
      this.db.prepare("INSERT INTO lock (pid, host, since) VALUES (?, ?, datetime('now'))").run(me.pid, me.host);
    }).immediate();
  }

  folder(srcName: string): FolderState | undefined {
    return this.guard(() => {
      const r = this.db.prepare<[string], FolderRecord>('SELECT * FROM folders WHERE src_name = ?').get(srcName);
      if (!r) return undefined;
      this.folderIds.set(srcName, r.id);
      return {
        srcName: r.src_name,
        srcUidValidity: r.src_uidvalidity,
        srcUidNext: r.src_uidnext,
        srcModseq: r.src_modseq ?? undefined,
        doneThrough: r.done_through,
        destName: r.dest_name,
        destUidValidity: r.dest_uidvalidity ?? undefined,
        search: r.search ?? undefined,
      };
    });
  }

  saveFolder(s: FolderState): void {
    return this.guard(() => {
      this.db
        .prepare(
          `INSERT INTO folders (src_name, src_uidvalidity, src_uidnext, src_modseq, done_through, dest_name, dest_uidvalidity, search)
           VALUES (@srcName, @srcUidValidity, @srcUidNext, @srcModseq, @doneThrough, @destName, @destUidValidity, @search)
           ON CONFLICT (src_name) DO UPDATE SET src_uidvalidity = excluded.src_uidvalidity, src_uidnext = excluded.src_uidnext,
             src_modseq = excluded.src_modseq, done_through = excluded.done_through, dest_name = excluded.dest_name,
             dest_uidvalidity = excluded.dest_uidvalidity, search = excluded.search`,
        )
        .run({ ...s, srcModseq: s.srcModseq ?? null, destUidValidity: s.destUidValidity ?? null, search: s.search ?? null });
    });
  }

  rows(srcName: string, srcUidValidity: number, states?: MessageState[]): MessageRow[] {
    return this.guard(() => {
      const id = this.folderId(srcName);
      if (id === undefined) return [];
      const where = states ? ` AND state IN (${states.map(() => '?').join(',')})` : '';
      // Named, or SQLite walks every row of the folder by its primary key (for the ORDER BY) to
      // find the few open ones: 40 ms for the 100 folders of a no-change rerun of 200k, not 3.
      const index = states ? ' INDEXED BY messages_state' : '';
      return this.db
        .prepare<unknown[], MessageRecord>(`SELECT * FROM messages${index} WHERE folder_id = ? AND src_uidvalidity = ?${where} ORDER BY src_uid`)
        .all(id, srcUidValidity, ...(states ?? []))
        .map(toRow);
    });
  }

  rowsOf(srcName: string, srcUidValidity: number, srcUids: number[]): MessageRow[] {
    return this.guard(() => {
      const id = this.folderId(srcName);
      if (id === undefined || srcUids.length === 0) return [];
      const uids = [...new Set(srcUids)].sort((a, b) => a - b);
      const out: MessageRow[] = [];
      // In slices: SQLite bounds the number of parameters of one statement.
      for (let i = 0; i < uids.length; i += UIDS_PER_QUERY) {
        const slice = uids.slice(i, i + UIDS_PER_QUERY);
        const found = this.db
          .prepare<unknown[], MessageRecord>(`SELECT * FROM messages WHERE folder_id = ? AND src_uidvalidity = ? AND src_uid IN (${slice.map(() => '?').join(',')}) ORDER BY src_uid`)
          .all(id, srcUidValidity, ...slice);
        for (const r of found) out.push(toRow(r));
      }
      return out;
    });
  }

  putRows(srcName: string, srcUidValidity: number, rows: MessageRow[]): void {
    return this.guard(() => {
      const id = this.requireFolder(srcName);
      const put = this.db.prepare(
        `INSERT OR REPLACE INTO messages (folder_id, src_uidvalidity, src_uid, size, internal_date, flags, sha256, state, reason, dest_uid, dest_floor, intent_at, dest_sha256)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.write(() => {
        for (const r of rows) {
          if (r.state === 'pending') this.intents = true;
          put.run(id, srcUidValidity, r.srcUid, r.size, r.internalDate, r.flags.join(' '), r.sha256 ?? null, r.state, r.reason ?? null, r.destUid ?? null, r.destFloor ?? null, r.intentAt ?? null, r.destSha256 ?? null);
        }
      });
    });
  }

  putFlags(srcName: string, srcUidValidity: number, changes: Array<{ srcUid: number; flags: string[] }>): void {
    return this.guard(() => {
      const id = this.requireFolder(srcName);
      const put = this.db.prepare('UPDATE messages SET flags = ? WHERE folder_id = ? AND src_uidvalidity = ? AND src_uid = ?');
      this.db.transaction(() => {
        for (const c of changes) put.run(c.flags.join(' '), id, srcUidValidity, c.srcUid);
      })();
    });
  }

  batch<T>(fn: () => T): T {
    return this.guard(() => this.write(fn));
  }

  /**
   * Runs `fn` as a transaction (or as part of the one under way). When the outermost one has
   * recorded an intent, it is synced before this returns: the safety level cannot change inside a
   * transaction, so a one-row commit at synchronous=FULL follows, whose fsync of the WAL covers
   * the intent written before it.
   */
  private write<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.db.transaction(fn)();
    this.intents = false;
    const out = this.db.transaction(fn)();
    if (this.intents) {
      this.intents = false;
      this.db.pragma('synchronous = FULL');
      try {
        this.db.prepare("INSERT INTO meta (key, value) VALUES ('synced', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(Date.now()));
      } finally {
        this.db.pragma('synchronous = NORMAL');
      }
    }
    return out;
  }

  usage(account: string, day: string): { down: number; up: number } {
    return this.guard(() => {
      const r = this.db.prepare<[string, string], { down: number; up: number }>('SELECT bytes_down AS down, bytes_up AS up FROM usage WHERE account = ? AND day = ?').get(account, day);
      return r ?? { down: 0, up: 0 };
    });
  }

  addUsage(account: string, day: string, down: number, up: number): void {
    return this.guard(() => {
      this.db
        .prepare(
          `INSERT INTO usage (account, day, bytes_down, bytes_up) VALUES (?, ?, ?, ?)
           ON CONFLICT (account, day) DO UPDATE SET bytes_down = bytes_down + excluded.bytes_down, bytes_up = bytes_up + excluded.bytes_up`,
        )
        .run(account, day, down, up);
    });
  }

  /** Never throws: it runs in `finally` blocks, where it must not hide the error that ended the run. */
  close(): void {
    if (!this.db.open) return;
    if (!this.readOnly) {
      try {
        this.db.prepare('DELETE FROM lock WHERE pid = ?').run(process.pid);
      } catch {
        // A full disk or a damaged file: the lock of a process that is gone is taken over anyway.
      }
    }
    this.db.close();
  }

  /** Runs `fn`, giving a failure of the file (full disk, damage) its meaning for the user. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw checkpointFailure(err, this.location);
    }
  }

  private folderId(srcName: string): number | undefined {
    if (!this.folderIds.has(srcName)) this.folder(srcName);
    return this.folderIds.get(srcName);
  }

  private requireFolder(srcName: string): number {
    const id = this.folderId(srcName);
    if (id === undefined) throw new Error(`checkpoint: folder ${srcName} saved before its rows`);
    return id;
  }
}

/**
 * The database at `path`, opened so that nothing in its directory changes. A read-only connection
 * to a WAL database creates its `-wal` and `-shm` files when they are missing, so a checkpoint
 * without them (closed cleanly: everything is in the main file) is read from a copy in memory.
 */
function readWithoutWriting(path: string): Database.Database {
  return existsSync(`${path}-wal`) ? new Database(path, { readonly: true, fileMustExist: true }) : new Database(asRollbackJournal(readFileSync(path)));
}

/**
 * A copy of a WAL database file marked as a rollback-journal one (header bytes 18 and 19: 2 means
 * WAL, 1 legacy), as a database in memory must be; without a `-wal` file the main file holds it all.
 */
function asRollbackJournal(file: Buffer): Buffer {
  if (file.length >= 20 && file[18] === 2 && file[19] === 2) file[18] = file[19] = 1;
  return file;
}

/**
 * How long a statement waits for a lock someone else holds for a moment: a reader of the file (a
 * user's sqlite3, another mailferry reading its progress) opening or closing it, a WAL checkpoint.
 * Another run writing to the same checkpoint is told by the lock row (`lock()`), not by this wait:
 * with no wait at all, a reader that opened the file at the wrong moment failed a run with exit 2,
 * "in use by another run" (test/propagate-deletes.test.ts, which polls the file, in CI).
 */
const BUSY_WAIT_MS = 5_000;

/** Source UIDs looked up by one statement of `rowsOf` (well below SQLite's parameter limit). */
const UIDS_PER_QUERY = 500;

function toRow(r: MessageRecord): MessageRow {
  return {
    srcUid: r.src_uid,
    size: r.size,
    internalDate: r.internal_date,
    flags: r.flags === '' ? [] : r.flags.split(' '),
    sha256: r.sha256 ?? undefined,
    state: r.state,
    reason: r.reason ?? undefined,
    destUid: r.dest_uid ?? undefined,
    destFloor: r.dest_floor ?? undefined,
    intentAt: r.intent_at ?? undefined,
    destSha256: r.dest_sha256 ?? undefined,
  };
}

function readIdentity(db: Database.Database): CheckpointIdentity | undefined {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const source = get.get('source')?.value;
  const dest = get.get('dest')?.value;
  return source === undefined || dest === undefined ? undefined : { source, dest };
}

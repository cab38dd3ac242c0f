import { chmodSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { LocalStorageError, UsageError } from '../errors/errors.js';
import { processRunning } from '../process-running.js';
import type { AccountState, AccountStatus, CampaignSnapshot, ThroughputSample } from './account-status.js';
import type { BulkAccount } from './bulk-account.js';
import type { AccountFiles, AttemptEnd, CampaignIdentity, StatusStore } from './status-store.js';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS campaign (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  command TEXT NOT NULL,
  list TEXT NOT NULL,
  created_at TEXT NOT NULL,
  pid INTEGER
);
CREATE TABLE IF NOT EXISTS accounts (
  key TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  id TEXT,
  from_url TEXT NOT NULL,
  to_url TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  exit_code INTEGER,
  messages INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  started_at TEXT,
  finished_at TEXT,
  checkpoint TEXT NOT NULL,
  log TEXT NOT NULL,
  worker TEXT
);
CREATE TABLE IF NOT EXISTS throughput (
  at TEXT NOT NULL,
  messages INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
`;

interface AccountRow {
  key: string;
  id: string | null;
  from_url: string;
  to_url: string;
  state: AccountState;
  attempts: number;
  last_error: string | null;
  exit_code: number | null;
  messages: number;
  bytes: number;
  duration_ms: number;
  started_at: string | null;
  finished_at: string | null;
  checkpoint: string;
  log: string;
  worker: string | null;
}

/**
 * The status of one campaign in one SQLite file (mode 0600; no secret is ever written to it).
 * One run at a time owns it: a second `bulk` run on the same file is refused while the first
 * one's process lives, so two runs never take the same account.
 */
export class SqliteStatusStore implements StatusStore {
  private constructor(
    private readonly db: Database.Database,
    private readonly identity: CampaignIdentity,
    private readonly owned: boolean,
  ) {}

  /** Opens (or creates) the status file for a run of the campaign, and takes it over. */
  static forRun(file: string, identity: CampaignIdentity): SqliteStatusStore {
    const db = open(file, false);
    try {
      db.exec(SCHEMA);
      chmodSync(file, 0o600);
      const take = db.transaction(() => {
        const row = db.prepare('SELECT command, list, pid FROM campaign').get() as { command: string; list: string; pid: number | null } | undefined;
        if (row && row.command !== identity.command) throw new UsageError(`${file} is the status of a bulk ${row.command} campaign, not of a bulk ${identity.command} (give another --status)`);
        if (row?.pid != null && row.pid !== process.pid && processRunning(row.pid)) throw new UsageError(`${file} is in use by another bulk run (pid ${row.pid}); wait for it or stop it`);
        if (row) db.prepare('UPDATE campaign SET pid = ?, list = ?').run(process.pid, identity.list);
        else db.prepare('INSERT INTO campaign (one, command, list, created_at, pid) VALUES (1, ?, ?, ?, ?)').run(identity.command, identity.list, new Date().toISOString(), process.pid);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      });
      take.immediate();
      return new SqliteStatusStore(db, identity, true);
    } catch (err) {
      db.close();
      throw storeFailure(file, err);
    }
  }

  /** Opens an existing status file to read it (`bulk status`). */
  static forReading(file: string): SqliteStatusStore {
    if (!existsSync(file)) throw new UsageError(`no status file ${file} (give the one a bulk run wrote with --status)`);
    const db = open(file, true);
    try {
      const row = db.prepare('SELECT command, list FROM campaign').get() as CampaignIdentity | undefined;
      if (!row) throw new LocalStorageError(`${file} holds no bulk campaign`);
      return new SqliteStatusStore(db, row, false);
    } catch (err) {
      db.close();
      throw storeFailure(file, err);
    }
  }

  async enroll(accounts: readonly BulkAccount[], files: (account: BulkAccount) => AccountFiles): Promise<void> {
    const upsert = this.db.prepare(`
      INSERT INTO accounts (key, position, id, from_url, to_url, state, checkpoint, log) VALUES (@key, @position, @id, @from, @to, 'queued', @checkpoint, @log)
      ON CONFLICT (key) DO UPDATE SET position = @position, id = @id, from_url = @from, to_url = @to, checkpoint = @checkpoint, log = @log,
        state = CASE state WHEN 'done' THEN 'done' ELSE 'queued' END`);
    this.db.transaction(() => {
      accounts.forEach((a, position) => upsert.run({ key: a.key, position, id: a.id ?? null, from: a.from, to: a.to, ...files(a) }));
    })();
  }

  async started(key: string, worker: string, files: AccountFiles): Promise<void> {
    this.db
      .prepare(`UPDATE accounts SET state = 'running', attempts = attempts + 1, worker = ?, checkpoint = ?, log = ?, started_at = coalesce(started_at, ?) WHERE key = ?`)
      .run(worker, files.checkpoint, files.log, new Date().toISOString(), key);
  }

  async finished(key: string, end: AttemptEnd): Promise<void> {
    this.db
      .prepare(`UPDATE accounts SET state = @state, exit_code = coalesce(@exitCode, exit_code), last_error = @error, messages = messages + @messages, bytes = bytes + @bytes,
        duration_ms = duration_ms + @durationMs, finished_at = @at WHERE key = @key`)
      .run({ key, state: end.state, exitCode: end.exitCode ?? null, error: end.error ?? null, messages: end.messages, bytes: end.bytes, durationMs: Math.round(end.durationMs), at: new Date().toISOString() });
  }

  async sample(sample: ThroughputSample): Promise<void> {
    this.db.prepare('INSERT INTO throughput (at, messages, bytes) VALUES (?, ?, ?)').run(sample.at, sample.messages, sample.bytes);
  }

  async snapshot(): Promise<CampaignSnapshot> {
    const rows = this.db.prepare('SELECT * FROM accounts ORDER BY position, key').all() as AccountRow[];
    const throughput = this.db.prepare('SELECT at, messages, bytes FROM throughput ORDER BY rowid').all() as ThroughputSample[];
    return { command: this.identity.command, list: this.identity.list, takenAt: new Date().toISOString(), accounts: rows.map(accountStatus), throughput };
  }

  async close(): Promise<void> {
    if (this.owned) this.db.prepare('UPDATE campaign SET pid = NULL WHERE pid = ?').run(process.pid);
    this.db.close();
  }
}

function open(file: string, readonly: boolean): Database.Database {
  try {
    const db = new Database(file, { readonly, fileMustExist: readonly, timeout: 5000 });
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    return db;
  } catch (err) {
    throw storeFailure(file, err);
  }
}

function storeFailure(file: string, err: unknown): unknown {
  if (err instanceof UsageError || err instanceof LocalStorageError) return err;
  return new LocalStorageError(`cannot use the status file ${file}: ${(err as Error).message}`, { cause: err });
}

function accountStatus(r: AccountRow): AccountStatus {
  return {
    key: r.key,
    ...(r.id !== null ? { id: r.id } : {}),
    from: r.from_url,
    to: r.to_url,
    state: r.state,
    attempts: r.attempts,
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    ...(r.exit_code !== null ? { exitCode: r.exit_code } : {}),
    messages: r.messages,
    bytes: r.bytes,
    durationMs: r.duration_ms,
    ...(r.started_at !== null ? { startedAt: r.started_at } : {}),
    ...(r.finished_at !== null ? { finishedAt: r.finished_at } : {}),
    checkpoint: r.checkpoint,
    log: r.log,
    ...(r.worker !== null ? { worker: r.worker } : {}),
  };
}

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors/errors.js';
import { processRunning } from '../process-running.js';

interface Holder {
  pid: number;
  host: string;
  since: string;
  checkpoint: string;
}

/**
 * One run at a time into a destination account, whatever checkpoint each run uses. Two runs with
 * different `--state` files into one account each match by content only what their own journal
 * knows, so both copy the same messages (196 duplicates were seen). The checkpoint's own lock
 * cannot see this; a table of holders in the state directory, keyed by the destination's label,
 * can. It is advisory: `--allow-concurrent` runs anyway (and still registers, so a run without it
 * sees the other). A holder whose process is gone from this host (kill -9) is dropped, as the
 * checkpoint's lock does; one on another host is trusted to be running.
 */
export class DestinationLock {
  private constructor(
    private readonly file: string,
    private readonly destination: string,
  ) {}

  static take(stateDir: string, destination: string, checkpoint: string, allowConcurrent: boolean): DestinationLock {
    const lock = new DestinationLock(join(stateDir, 'destinations.sqlite'), destination);
    lock.withDb((db) =>
      db
        .transaction(() => {
          const me = { pid: process.pid, host: hostname() };
          // Entries of processes gone from this host, whatever their destination: the table stays small.
          const drop = db.prepare('DELETE FROM holders WHERE pid = ? AND host = ?');
          for (const { pid } of db.prepare<[string], { pid: number }>('SELECT DISTINCT pid FROM holders WHERE host = ?').all(me.host)) {
            if (!processRunning(pid)) drop.run(pid, me.host);
          }
          const other = db
            .prepare<[string, number, string], Holder>('SELECT pid, host, since, checkpoint FROM holders WHERE destination = ? AND NOT (pid = ? AND host = ?)')
            .get(destination, me.pid, me.host);
          if (other && !allowConcurrent) {
            throw new UsageError(
              `${destination} is being written by process ${other.pid} on ${other.host} since ${other.since} UTC (checkpoint ${other.checkpoint}); ` +
                'two runs into one account at once copy messages twice: wait for it to end, or give --allow-concurrent',
            );
          }
          db.prepare("INSERT INTO holders (destination, pid, host, since, checkpoint) VALUES (?, ?, ?, datetime('now'), ?)").run(destination, me.pid, me.host, checkpoint);
        })
        .immediate(),
    );
    return lock;
  }

  /** Never throws: it runs in a `finally`, and an entry left behind is dropped by the next run, as after kill -9. */
  release(): void {
    try {
      this.withDb((db) => db.prepare('DELETE FROM holders WHERE destination = ? AND pid = ? AND host = ?').run(this.destination, process.pid, hostname()));
    } catch {
      // see above
    }
  }

  private withDb<T>(fn: (db: Database.Database) => T): T {
    let db: Database.Database;
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      // Runs starting at the same moment wait for each other's few-millisecond transaction.
      db = new Database(this.file, { timeout: 10_000 });
      db.exec('CREATE TABLE IF NOT EXISTS holders (destination TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL, checkpoint TEXT NOT NULL)');
    } catch (err) {
      throw new UsageError(`cannot use the lock file ${this.file}: ${(err as Error).message}`);
    }
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteCheckpoint } from '../../src/checkpoint/sqlite-checkpoint.js';
import type { Checkpoint, MessageRow } from '../../src/engine/checkpoint.js';
import { syncFolder } from '../../src/engine/folder-sync.js';
import { runCopyJob } from '../../src/jobs/copy-job.js';
import { MemoryStore } from '../support/memory-store.js';

const dir = mkdtempSync(join(tmpdir(), 'mf-incremental-'));
const identity = { source: 'mem://source', dest: 'mem://dest' };
const options = { filter: {}, syncFlags: false, batchMessages: 250, batchBytes: 8 << 20, minMessagesPerRange: 500 };

/** The checkpoint, counting the rows each read hands out. */
function counting(checkpoint: Checkpoint): { checkpoint: Checkpoint; read: () => number } {
  let read = 0;
  const counted = (rows: MessageRow[]): MessageRow[] => ((read += rows.length), rows);
  const wrapped: Checkpoint = Object.assign(Object.create(checkpoint) as Checkpoint, {
    rows: (...a: Parameters<Checkpoint['rows']>) => counted(checkpoint.rows(...a)),
    rowsOf: (...a: Parameters<Checkpoint['rowsOf']>) => counted(checkpoint.rowsOf(...a)),
  });
  return { checkpoint: wrapped, read: () => read };
}

describe('an incremental pass over a big folder', () => {
  it('reads from the journal only its open rows and the rows of the UIDs it finds new, not every row', async () => {
    const source = new MemoryStore(identity.source);
    const dest = new MemoryStore(identity.dest);
    for (let i = 0; i < 1200; i++) source.add('INBOX', `Subject: ${i}\r\n\r\nbody ${i}\r\n`);
    const statePath = join(dir, 'big.sqlite');
    const first = await runCopyJob({
      command: 'test', source, dest, statePath, selection: { include: [], exclude: [], map: [] }, filter: {}, syncFlags: false, connections: 1, dryRun: false, emit: () => undefined,
    });
    expect(first.exit).toBe('ok');
    for (let i = 0; i < 3; i++) source.add('INBOX', `Subject: new ${i}\r\n\r\nnew ${i}\r\n`);

    const journal = SqliteCheckpoint.open(statePath, identity);
    try {
      const { checkpoint, read } = counting(journal);
      const [inbox] = (await source.listFolders()).filter((f) => f.name === 'INBOX');
      const [destInbox] = (await dest.listFolders()).filter((f) => f.name === 'INBOX');
      const report = await syncFolder({ source, dest, checkpoint, options, emit: () => undefined }, { source: inbox!, dest: destInbox! });
      expect(report.copied).toBe(3);
      expect(dest.contents()).toEqual(source.contents());
      // The 3 new UIDs have no rows yet, and nothing is open: the 1,200 settled rows stay on disk.
      expect(read()).toBe(0);
    } finally {
      journal.close();
    }
  });

  it('finds the rows of any set of UIDs, however many (SQLite bounds the parameters of a statement)', () => {
    const journal = SqliteCheckpoint.open(join(dir, 'rows-of.sqlite'), identity);
    try {
      journal.saveFolder({ srcName: 'INBOX', srcUidValidity: 7, srcUidNext: 0, doneThrough: 0, destName: 'INBOX' });
      const rows: MessageRow[] = Array.from({ length: 2000 }, (_, i) => ({ srcUid: 2 * i + 1, size: 10, internalDate: 1000, flags: [], state: 'done' }));
      journal.putRows('INBOX', 7, rows);
      const wanted = Array.from({ length: 1500 }, (_, i) => 2999 - i); // the odd ones have rows
      const odd = Array.from({ length: 750 }, (_, i) => 1501 + 2 * i);
      expect(journal.rowsOf('INBOX', 7, wanted).map((r) => r.srcUid)).toEqual(odd);
      expect(journal.rowsOf('INBOX', 7, [1, 3]).map((r) => r.srcUid)).toEqual([1, 3]);
      expect(journal.rowsOf('INBOX', 8, [1, 3])).toEqual([]);
      expect(journal.rowsOf('Other', 7, [1])).toEqual([]);
    } finally {
      journal.close();
    }
  });
});

describe('the journal', () => {
  it("answers a folder's rows in some states from its state index, not by walking every row of the folder", () => {
    const journal = SqliteCheckpoint.open(join(dir, 'plan.sqlite'), identity);
    const db = (journal as unknown as { db: import('better-sqlite3').Database }).db;
    const asked: string[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => (asked.push(sql), prepare(sql))) as typeof db.prepare;
    try {
      journal.saveFolder({ srcName: 'INBOX', srcUidValidity: 7, srcUidNext: 0, doneThrough: 0, destName: 'INBOX' });
      journal.putRows('INBOX', 7, Array.from({ length: 1000 }, (_, i): MessageRow => ({ srcUid: i + 1, size: 10, internalDate: 1000, flags: [], state: i === 500 ? 'failed' : 'done' })));
      asked.length = 0;
      expect(journal.rows('INBOX', 7, ['pending', 'failed', 'skipped']).map((r) => r.srcUid)).toEqual([501]);
      const [sql] = asked.filter((q) => q.startsWith('SELECT * FROM messages'));
      const plan = prepare(`EXPLAIN QUERY PLAN ${sql}`).all(1, 7, 'pending', 'failed', 'skipped') as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join('; ')).toMatch(/USING INDEX messages_state/);
    } finally {
      db.prepare = prepare;
      journal.close();
    }
  });
});

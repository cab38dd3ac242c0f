import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteCheckpoint } from '../../src/checkpoint/sqlite-checkpoint.js';

const ids = { source: 'imap://a@h:1', dest: 'imap://b@h:1' };

describe('SqliteCheckpoint', () => {
  it('keeps folder state and rows across reopen, in a 0600 file', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mf-cp-')), 'sub', 'state.sqlite');
    const cp = SqliteCheckpoint.open(path, ids);
    cp.saveFolder({ srcName: 'INBOX', srcUidValidity: 7, srcUidNext: 0, doneThrough: 0, destName: 'INBOX', destUidValidity: 9 });
    cp.putRows('INBOX', 7, [{ srcUid: 1, size: 10, internalDate: 1000, flags: ['\\Seen', '$X'], sha256: 'ab', state: 'pending', destFloor: 5 }]);
    cp.putRows('INBOX', 7, [{ srcUid: 1, size: 10, internalDate: 1000, flags: ['\\Seen', '$X'], sha256: 'ab', state: 'done', destUid: 5 }]);
    cp.putFlags('INBOX', 7, [{ srcUid: 1, flags: [] }]);
    cp.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const again = SqliteCheckpoint.open(path, ids);
    expect(again.folder('INBOX')).toMatchObject({ srcUidValidity: 7, destUidValidity: 9 });
    expect(again.rows('INBOX', 7)).toEqual([{ srcUid: 1, size: 10, internalDate: 1000, flags: [], sha256: 'ab', state: 'done', destUid: 5, destFloor: undefined, reason: undefined }]);
    expect(again.rows('INBOX', 8)).toEqual([]);
    expect(again.rows('INBOX', 7, ['pending'])).toEqual([]);
    again.close();
  });

  it('belongs to one pair of accounts', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mf-cp-')), 'state.sqlite');
    SqliteCheckpoint.open(path, ids).close();
    expect(() => SqliteCheckpoint.open(path, { ...ids, dest: 'imap://c@h:1' })).toThrow(/belongs to/);
  });

  it('lets one writer in, and takes over the lock of a dead process', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mf-cp-')), 'state.sqlite');
    const first = SqliteCheckpoint.open(path, ids);
    // Same process re-opening is allowed (it is the holder); a live other process is not.
    const db = (first as unknown as { db: import('better-sqlite3').Database }).db;
    db.prepare('UPDATE lock SET pid = 1').run();
    expect(() => SqliteCheckpoint.open(path, ids)).toThrow(/in use by process 1/);
    db.prepare('UPDATE lock SET pid = 2147483646').run();
    const second = SqliteCheckpoint.open(path, ids);
    second.close();
  });
});

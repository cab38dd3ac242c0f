import type { MailboxObject } from 'imapflow';
import { describe, expect, it } from 'vitest';
import type { MessageMeta } from '../../src/domain/types.js';
import { ScanMemo } from '../../src/stores/imap/scan-memo.js';

const box = (b: Partial<MailboxObject>): MailboxObject => ({ path: 'INBOX', uidValidity: 7n, uidNext: 11, exists: 10, highestModseq: 42n, ...b }) as MailboxObject;
const metas = (n: number): MessageMeta[] => Array.from({ length: n }, (_, i) => ({ uid: i + 1, size: 100, flags: [], internalDate: new Date(0) }));

describe('the scan memo of an IMAP store', () => {
  it('answers a second opening of a folder in the same state, once', () => {
    const memo = new ScanMemo(100);
    const state = ScanMemo.stateOf(box({}))!;
    const scanned = metas(10);
    memo.keep('INBOX', state, scanned);
    expect(memo.take('INBOX', state)).toBe(scanned);
    expect(memo.take('INBOX', state)).toBeUndefined();
  });

  it('never answers for a folder whose messages, flags or generation changed since (UIDNEXT, EXISTS, HIGHESTMODSEQ, UIDVALIDITY)', () => {
    const kept = ScanMemo.stateOf(box({}))!;
    for (const changed of [{ uidNext: 12 }, { exists: 9 }, { highestModseq: 43n }, { uidValidity: 8n }]) {
      const memo = new ScanMemo(100);
      memo.keep('INBOX', kept, metas(10));
      expect(memo.take('INBOX', ScanMemo.stateOf(box(changed))!)).toBeUndefined();
    }
  });

  it('keeps nothing for a server without HIGHESTMODSEQ, where a flag change leaves no trace in the state', () => {
    expect(ScanMemo.stateOf(box({ highestModseq: undefined }))).toBeUndefined();
    expect(ScanMemo.stateOf(box({ noModseq: true }))).toBeUndefined();
  });

  it('holds at most its bound of messages over all folders', () => {
    const memo = new ScanMemo(15);
    const state = ScanMemo.stateOf(box({}))!;
    memo.keep('A', state, metas(10));
    memo.keep('B', state, metas(10));
    expect(memo.take('B', state)).toBeUndefined();
    expect(memo.take('A', state)).toHaveLength(10);
    memo.keep('B', state, metas(10));
    expect(memo.take('B', state)).toHaveLength(10);
  });

  it('serves only a plain full scan: not a range, UIDs, CHANGEDSINCE or headers', () => {
    expect(ScanMemo.isFull({})).toBe(true);
    for (const r of [{ fromUid: 5 }, { uids: [1] }, { changedSince: '3' }, { header: true }, { headerFields: ['subject'] }, { messageIds: true }]) expect(ScanMemo.isFull(r)).toBe(false);
  });
});

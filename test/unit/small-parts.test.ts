import { describe, expect, it } from 'vitest';
import { uidSet } from '../../src/stores/imap/uid-set.js';
import { batches, prefetched } from '../../src/engine/batches.js';
import { flagsForDest, sameFlags } from '../../src/engine/flags.js';
import { skipReason } from '../../src/engine/filters.js';
import { inParallel } from '../../src/stores/local/safe-fs.js';
import type { MessageMeta } from '../../src/domain/types.js';

const meta = (uid: number, size: number): MessageMeta => ({ uid, size, flags: [], internalDate: new Date(0) });

describe('uidSet', () => {
  it('compresses runs', () => {
    expect(uidSet([7, 1, 2, 3, 9, 10])).toBe('1:3,7,9:10');
    expect(uidSet([5])).toBe('5');
  });
});

describe('batches', () => {
  it('bounds count and bytes, and gives a big message a batch of its own', () => {
    const out = [...batches([meta(1, 10), meta(2, 10), meta(3, 100), meta(4, 10)], 2, 50)].map((b) => b.map((m) => m.uid));
    expect(out).toEqual([[1, 2], [3], [4]]);
  });

  it('gives a message it is told to keep alone (one to stream) a batch of its own, in order', () => {
    const out = [...batches([meta(1, 10), meta(2, 10), meta(3, 10), meta(4, 10)], 10, 1000, (m) => m.uid === 2 || m.uid === 3)].map((b) => b.map((m) => m.uid));
    expect(out).toEqual([[1], [2], [3], [4]]);
  });
});

describe('prefetched', () => {
  it('starts loading the next item before the consumer is done with the current one', async () => {
    const started: number[] = [];
    const seen: number[] = [];
    for await (const v of prefetched([1, 2, 3], async (n) => (started.push(n), n))) {
      seen.push(v);
      if (v < 3) expect(started).toContain(v + 1);
    }
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('inParallel', () => {
  it('starts nothing after a failure, and rethrows it only once every item in flight has ended', async () => {
    const started: number[] = [];
    const ended: number[] = [];
    const run = inParallel([1, 2, 3, 4, 5, 6], 3, async (n) => {
      started.push(n);
      await new Promise((resolve) => setTimeout(resolve, n === 2 ? 1 : 20));
      if (n === 2) throw new Error('item 2 failed');
      ended.push(n);
    });
    await expect(run).rejects.toThrow('item 2 failed');
    expect(started).toEqual([1, 2, 3]);
    expect(ended.sort()).toEqual([1, 3]);
  });
});

describe('flags', () => {
  it('never sends \\Recent and keeps only permanent flags when the folder lists them', () => {
    expect(flagsForDest(['\\Seen', '\\Recent', '$Label1'], undefined)).toEqual(['\\Seen', '$Label1']);
    expect(flagsForDest(['\\Seen', '$Label1'], new Set(['\\Seen', '\\Flagged']))).toEqual(['\\Seen']);
    expect(flagsForDest(['\\Seen', '$Label1'], new Set(['\\Seen', '\\*']))).toEqual(['\\Seen', '$Label1']);
  });
  it('compares as sets', () => {
    expect(sameFlags(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(sameFlags(['a'], ['a', 'b'])).toBe(false);
  });
});

describe('skipReason', () => {
  const m = { uid: 7, size: 1000, internalDate: new Date('2020-06-01T00:00:00Z') };
  it('names the filter that leaves a message out', () => {
    expect(skipReason(m, { since: new Date('2021-01-01') })).toBe('before-since');
    expect(skipReason(m, { before: new Date('2020-01-01') })).toBe('not-before');
    expect(skipReason(m, { maxSize: 999 })).toBe('over-max-size');
    expect(skipReason(m, { destMaxSize: 999 })).toBe('too-large');
    expect(skipReason(m, { since: new Date('2020-01-01'), before: new Date('2021-01-01'), maxSize: 1000 })).toBeUndefined();
  });
  it('leaves out what the source did not find with the search criteria, judged only once it has searched', () => {
    expect(skipReason(m, { search: 'FROM alice' }, new Set([8]))).toBe('not-matching-search');
    expect(skipReason(m, { search: 'FROM alice' }, new Set([7]))).toBeUndefined();
    expect(skipReason(m, { search: 'FROM alice' })).toBeUndefined();
    expect(skipReason(m, { search: 'FROM alice', maxSize: 999 }, new Set([8]))).toBe('over-max-size');
  });
});

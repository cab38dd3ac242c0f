import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { flagList } from '../../src/stores/imap/flag-list.js';

/** A full collection, so what heapUsed counts is what is still held. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** A flag name made anew, as imapflow's parser makes one for every message. */
const fresh = (name: string): string => [...name].join('');

describe("a scanned message's flags", () => {
  it('are its flags in their order, without \\Recent, which no APPEND may set', () => {
    expect(flagList(new Set(['\\Seen', '\\Recent', '$Forwarded']))).toEqual(['\\Seen', '$Forwarded']);
    expect(flagList(new Set(['\\Recent']))).toEqual([]);
    expect(flagList(new Set())).toEqual([]);
    expect(flagList(undefined)).toEqual([]);
  });

  it('cost little each when a whole folder of them is held: one shared string per name, arrays of their length', () => {
    // A scan keeps every message's flags while its folder is copied: 71,000 in a big INBOX.
    const count = 20_000;
    collect();
    const before = process.memoryUsage().heapUsed;
    const lists = Array.from({ length: count }, () => flagList(new Set([fresh('\\Seen'), fresh('$Forwarded')])));
    collect();
    const perList = (process.memoryUsage().heapUsed - before) / count;
    expect(lists[count - 1]).toEqual(['\\Seen', '$Forwarded']);
    // 72 bytes a message here (an array of two and its slot in `lists`); a filtered copy holding
    // the parser's own strings, as scans kept them before, took 248.
    expect(perList).toBeLessThan(120);
  });
});

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { OWN_NAME, recordedSize, uniqueBase } from '../../src/stores/maildir/maildir-names.js';

/** A full collection, so what heapUsed counts is what is still held. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('a Maildir base name mailferry makes', () => {
  it('is ours by its shape and records the size', () => {
    const base = uniqueBase(1234);
    expect(base).toMatch(OWN_NAME);
    expect(recordedSize(`${base}:2,S`)).toBe(1234);
    expect(uniqueBase(1234)).not.toBe(base);
  });

  it('is held in memory as one string of its length, not as the pieces it was made of', () => {
    // An open folder keeps the name of every message written to it: 71,000 of them in a big INBOX.
    const count = 20_000;
    collect();
    const before = process.memoryUsage().heapUsed;
    const names = Array.from({ length: count }, (_, i) => uniqueBase(i));
    collect();
    const perName = (process.memoryUsage().heapUsed - before) / count;
    // 86 bytes a name here (a string's header, its characters, its slot in the array); kept as a
    // template literal's pieces it took 473.
    expect(names[0]!.length).toBeLessThan(90);
    expect(perName).toBeLessThan(150);
  });
});

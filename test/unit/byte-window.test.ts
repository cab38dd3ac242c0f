import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/engine/byte-budget.js';

const MB = 1 << 20;

/** Resolves to whether `p` has settled by the time pending callbacks have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('the byte window of a run (ByteBudget)', () => {
  it('admits batches while they fit, and the next once bytes are given back', async () => {
    const window = new ByteBudget(16 * MB);
    await window.take(8 * MB);
    await window.take(8 * MB);
    const third = window.take(8 * MB);
    expect(await settled(third), 'a third 8 MB batch fits no 16 MB window holding two').toBe(false);
    window.give(8 * MB);
    expect(await settled(third)).toBe(true);
    expect(window.inUse).toBe(16 * MB);
  });

  it('lets a message larger than the window in alone: once everything held is given back, and never beside anything', async () => {
    const window = new ByteBudget(16 * MB);
    await window.take(4 * MB);
    const big = window.take(20 * MB);
    expect(await settled(big), 'a 20 MB message beside 4 MB held would hold 24 MB').toBe(false);
    const small = window.take(1 * MB);
    expect(await settled(small), 'a batch asked for after the big message overtook it').toBe(false);
    window.give(4 * MB);
    expect(await settled(big)).toBe(true);
    expect(window.inUse).toBe(20 * MB);
    expect(await settled(small), 'a batch was let in beside a message larger than the window').toBe(false);
    window.give(20 * MB);
    expect(await settled(small)).toBe(true);
  });

  it('never holds more than the window or the largest message, with workers taking and giving at random', async () => {
    const limit = 16 * MB;
    const window = new ByteBudget(limit);
    let seed = 17;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let peak = 0;
    let largest = 0;
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        const bytes = random() < 0.1 ? Math.round(17 * MB + random() * 8 * MB) : Math.round(random() * 8 * MB) + 1;
        largest = Math.max(largest, bytes);
        await window.take(bytes);
        peak = Math.max(peak, window.inUse);
        await new Promise((r) => setTimeout(r, random() * 2));
        window.give(bytes);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(window.inUse).toBe(0);
    expect(peak, `held ${peak / MB} MB at once`).toBeLessThanOrEqual(Math.max(limit, largest));
    expect(peak, 'a message larger than the window was held beside other bytes').toBeLessThanOrEqual(25 * MB);
  });

  it('an aborted wait ends at once, counted as taken so that giving it back is the same as always', async () => {
    const window = new ByteBudget(16 * MB);
    await window.take(16 * MB);
    const abort = new AbortController();
    const waiting = window.take(8 * MB, abort.signal);
    abort.abort();
    expect(await settled(waiting)).toBe(true);
    window.give(8 * MB);
    window.give(16 * MB);
    expect(window.inUse).toBe(0);
  });
});

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

  it('lets a message larger than the window in at once, one such message at a time, and then ordinary batches only within half the window', async () => {
    const window = new ByteBudget(16 * MB);
    await window.take(10 * MB);
    const big = window.take(20 * MB);
    expect(await settled(big), 'a 20 MB message waited for batches already in flight').toBe(true);
    const small = window.take(1 * MB);
    expect(await settled(small), 'a batch went in beside a big message while more than half the window was held').toBe(false);
    window.give(10 * MB);
    expect(await settled(small), 'a small batch waited for the big message although half the window was free').toBe(true);
    expect(window.inUse).toBe(21 * MB);
    await window.take(7 * MB);
    const over = window.take(1 * MB);
    expect(await settled(over), 'beside a big message the batches held more than half the window').toBe(false);
    const second = window.take(18 * MB);
    expect(await settled(second), 'two messages larger than the window were held at once').toBe(false);
    window.give(20 * MB);
    expect(await settled(second)).toBe(true);
    expect(await settled(over), 'the batch waiting went in before the second big message').toBe(true);
    expect(window.inUse).toBe(27 * MB);
    const third = window.take(1 * MB);
    expect(await settled(third), 'beside the second big message the batches still share half the window').toBe(false);
  });

  it('lets an ordinary batch larger than half the window in before the next big message, once the big one before is given back', async () => {
    const window = new ByteBudget(16 * MB);
    await window.take(2 * MB);
    await window.take(20 * MB);
    const twelve = window.take(12 * MB);
    const secondBig = window.take(20 * MB);
    window.give(2 * MB);
    expect(await settled(twelve), 'a 12 MB batch went in beside a big message').toBe(false);
    window.give(20 * MB);
    expect(await settled(twelve), 'the 12 MB batch starved behind a second big message').toBe(true);
    expect(await settled(secondBig)).toBe(true);
    expect(window.inUse).toBe(32 * MB);
  });

  it('never holds more than the window plus the largest message, nor two messages larger than the window, with workers taking and giving at random', async () => {
    const limit = 16 * MB;
    const window = new ByteBudget(limit);
    let seed = 17;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let peak = 0;
    let largest = 0;
    let bigs = 0;
    let bigsMost = 0;
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        const bytes = random() < 0.1 ? Math.round(17 * MB + random() * 8 * MB) : Math.round(random() * 8 * MB) + 1;
        largest = Math.max(largest, bytes);
        await window.take(bytes);
        if (bytes > limit) bigsMost = Math.max(bigsMost, ++bigs);
        peak = Math.max(peak, window.inUse);
        await new Promise((r) => setTimeout(r, random() * 2));
        if (bytes > limit) bigs--;
        window.give(bytes);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(window.inUse).toBe(0);
    expect(peak, `held ${peak / MB} MB at once`).toBeLessThanOrEqual(limit + largest);
    expect(bigsMost, 'two messages larger than the window were held at once').toBe(1);
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

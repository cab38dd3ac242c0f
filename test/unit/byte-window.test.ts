import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/engine/byte-budget.js';
import { LinkPace } from '../../src/engine/link-pace.js';

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

  it('lets a message larger than the window in beside at most half the window, one such message at a time', async () => {
    const window = new ByteBudget(16 * MB);
    await window.take(10 * MB);
    const big = window.take(20 * MB);
    expect(await settled(big), 'a 20 MB message beside 10 MB held would hold more than 20 MB plus half the window').toBe(false);
    const small = window.take(1 * MB);
    expect(await settled(small), 'a batch went in while a big message waited for the window to drain to half').toBe(false);
    window.give(10 * MB);
    expect(await settled(big)).toBe(true);
    expect(await settled(small), 'a small batch waited for the big message although half the window was free').toBe(true);
    expect(window.inUse).toBe(21 * MB);
    await window.take(7 * MB);
    const over = window.take(1 * MB);
    expect(await settled(over), 'beside a big message the batches held more than half the window').toBe(false);
    const second = window.take(18 * MB);
    expect(await settled(second), 'two messages larger than the window were held at once').toBe(false);
    window.give(20 * MB);
    expect(await settled(second)).toBe(true);
    expect(await settled(over), 'beside the second big message the batches still share half the window').toBe(false);
    window.give(1 * MB);
    expect(await settled(over)).toBe(true);
    expect(window.inUse).toBe(26 * MB);
  });

  it('lets an ordinary batch larger than half the window in once nothing is held, even while big messages keep coming', async () => {
    const window = new ByteBudget(16 * MB);
    await window.take(2 * MB);
    const firstBig = window.take(20 * MB);
    expect(await settled(firstBig)).toBe(true);
    const twelve = window.take(12 * MB);
    const secondBig = window.take(20 * MB);
    window.give(2 * MB);
    expect(await settled(twelve), 'a 12 MB batch went in beside a big message').toBe(false);
    window.give(20 * MB);
    expect(await settled(twelve), 'the 12 MB batch starved behind a second big message').toBe(true);
    expect(await settled(secondBig), 'a big message went in beside more than half the window').toBe(false);
    window.give(12 * MB);
    expect(await settled(secondBig)).toBe(true);
  });

  it('never holds more than the window, or the largest message plus half the window, with workers taking and giving at random', async () => {
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
    expect(peak, `held ${peak / MB} MB at once`).toBeLessThanOrEqual(Math.max(limit, largest + limit / 2));
    expect(peak, 'two messages larger than the window were held at once').toBeLessThan(2 * 17 * MB);
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

  it('widens to the slow-link window once FETCHes come in slowly, admitting what waited, and narrows again when they are fast', async () => {
    const window = new ByteBudget(16 * MB, 48 * MB);
    await window.take(8 * MB);
    await window.take(8 * MB);
    const third = window.take(8 * MB);
    // Three 2 MB batches at 1 MB/s each: a capped uplink shared by several connections.
    for (let i = 0; i < 3; i++) window.fetched(2 * MB, 2000);
    expect(await settled(third), 'a batch waited for the narrow window on a slow link').toBe(true);
    await window.take(8 * MB);
    await window.take(8 * MB);
    await window.take(8 * MB);
    const seventh = window.take(8 * MB);
    expect(await settled(seventh), 'the slow-link window held more than 48 MB').toBe(false);
    for (let i = 0; i < 3; i++) window.fetched(8 * MB, 80);
    for (let i = 0; i < 4; i++) window.give(8 * MB);
    expect(window.inUse).toBe(16 * MB);
    expect(await settled(seventh), 'on a fast link again, the window went back to 16 MB').toBe(false);
    window.give(8 * MB);
    expect(await settled(seventh)).toBe(true);
  });

  it('keeps a message larger than the narrow window oversize however wide the window is, one at a time, with half the current window beside it', async () => {
    const window = new ByteBudget(16 * MB, 48 * MB);
    await window.take(20 * MB);
    await window.take(8 * MB);
    const narrow = window.take(1 * MB);
    expect(await settled(narrow), 'beside a big message the batches held more than half the narrow window').toBe(false);
    for (let i = 0; i < 3; i++) window.fetched(2 * MB, 2000);
    expect(await settled(narrow), 'on a slow link the batches beside a big message may hold half the wide window').toBe(true);
    await window.take(15 * MB);
    const beyond = window.take(1 * MB);
    expect(await settled(beyond), 'beside a big message the batches held more than half the wide window').toBe(false);
    const second = window.take(20 * MB);
    expect(await settled(second), 'two messages larger than the narrow window were held at once').toBe(false);
    window.give(20 * MB);
    expect(await settled(second)).toBe(true);
    expect(window.inUse, 'the largest message plus half the wide window').toBe(20 * MB + 24 * MB);
  });
});

describe('the pace of a run\'s FETCHes (LinkPace)', () => {
  it('is slow once the median of the last three sizeable FETCHes is under 8 MB/s', () => {
    const pace = new LinkPace();
    pace.fetched(4 * MB, 1000);
    pace.fetched(4 * MB, 1000);
    expect(pace.slow, 'two FETCHes are too few to judge the link by').toBe(false);
    pace.fetched(8 * MB, 50);
    expect(pace.slow, 'two of three FETCHes at 4 MB/s').toBe(true);
    pace.fetched(8 * MB, 50);
    expect(pace.slow, 'two of the last three at 160 MB/s').toBe(false);
  });

  it('leaves out FETCHes too small to be about bytes, and those answered from memory', () => {
    const pace = new LinkPace();
    for (let i = 0; i < 5; i++) pace.fetched(100 * 1024, 200);
    expect(pace.slow, 'small FETCHes at 100 ms are round trips, not a slow link').toBe(false);
    for (let i = 0; i < 3; i++) pace.fetched(2 * MB, 2000);
    expect(pace.slow).toBe(true);
    for (let i = 0; i < 3; i++) pace.fetched(1 * MB, 0.2);
    expect(pace.slow, 'a small folder\'s messages, brought by its scan, made the link look fast').toBe(true);
  });

  it('is far once each of the last three folder opens took 60 ms or more, and near again after one quick open', () => {
    const pace = new LinkPace();
    pace.opened(100);
    pace.opened(100);
    expect(pace.far, 'two opens are too few to judge the link by').toBe(false);
    pace.opened(100);
    expect(pace.far, 'three opens of 100 ms: a far link').toBe(true);
    expect(pace.slow, 'far is not slow').toBe(false);
    pace.opened(3);
    expect(pace.far, 'one open of 3 ms among the last three: a near link on a busy moment').toBe(false);
    for (let i = 0; i < 3; i++) pace.opened(45);
    expect(pace.far, 'opens of 45 ms (a 40 ms link)').toBe(false);
    for (let i = 0; i < 3; i++) pace.fetched(8 * MB, 50);
    for (let i = 0; i < 3; i++) pace.opened(110);
    expect(pace.far, 'fast FETCHes over a far link').toBe(true);
  });
});

describe('the byte window on a far link', () => {
  it('widens to the far-link window once the source\'s folders open a round trip of 60 ms or more away, admitting what waited, and to the slow-link window where FETCHes also come in slowly', async () => {
    const window = new ByteBudget(16 * MB, 48 * MB, 32 * MB);
    await window.take(8 * MB);
    await window.take(8 * MB);
    const third = window.take(8 * MB);
    for (let i = 0; i < 3; i++) window.opened(100);
    expect(await settled(third), 'a batch waited for the narrow window on a far link').toBe(true);
    await window.take(8 * MB);
    const fifth = window.take(8 * MB);
    expect(await settled(fifth), 'the far-link window held more than 32 MB').toBe(false);
    for (let i = 0; i < 3; i++) window.fetched(2 * MB, 2000);
    expect(await settled(fifth), 'far and slow: the slow-link window').toBe(true);
  });
});

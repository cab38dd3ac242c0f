import { LinkPace } from './link-pace.js';

/**
 * The byte window of a run: bounds the message bytes held in memory across all workers and both
 * directions, from the FETCH that brings a batch in until its APPEND (or write to disk) is
 * answered. A batch is fetched only once its size fits; its bytes are given back when it is
 * written. Without it, 8 workers each fetching ahead a batch with a 20 MB attachment would hold
 * several hundred MB at once.
 *
 * A batch larger than the whole window (one huge message) is oversize: oversize batches go one at
 * a time, beside at most half the window of ordinary batches. While one is held or waiting, the
 * ordinary batches share that half, so the other workers keep copying while a 20 MB message
 * crawls over a slow link (before, it held the whole run still: 7.8 of 28 s at 4 MB/s), and the
 * oversize one waits at most for the batches already in flight. So the bound is the window, or
 * the largest message plus half the window, whichever is larger.
 *
 * Requests of each kind are served in order. An ordinary batch larger than half the window goes
 * when nothing is held, so it is never starved by small ones.
 *
 * On a slow link (`LinkPace`, fed by `fetched`) the window widens to `slowLinkLimit`: there a
 * batch spends seconds between its FETCH and its APPEND's answer, and a window of two batches left
 * the link idle one way while the workers waited for memory (the bench's 4 MB/s migration: 21–22 s
 * with 48 MB against 24–25 s with 16). On a far one (fed by `opened`) it widens to
 * `farLinkLimit`, where round trips, not bytes, hold a batch (1k subset over TLS at 100 ms:
 * 3.71–4.15 s with 32 MB, 3.96–4.23 s with 24, 4.60–4.74 s with 16; 48 MB was no faster and
 * peaked at up to 181 MB). On a fast, near link it stays narrow, where more bytes in flight only
 * buy garbage to collect. What is oversize stays `limit` either way; beside one,
 * the batches share half the current window, so on a slow link a 20 MB message crawling down
 * leaves 24 MB for the others to keep the link busy both ways (the same migration: 22.3–22.8 s
 * against 23.9–25.2 s with `limit / 2` beside it, at the same peak RSS). The bound is the
 * largest message plus half the current window.
 */
export class ByteBudget {
  /** Bytes of ordinary batches held. */
  private held = 0;
  /** Bytes of the oversize batch held, 0 when none is. */
  private oversize = 0;
  private readonly ordinary: Waiting[] = [];
  private readonly oversized: Waiting[] = [];
  private readonly pace = new LinkPace();

  constructor(
    private readonly limit: number,
    private readonly slowLinkLimit = limit,
    private readonly farLinkLimit = limit,
  ) {}

  /** What ordinary batches may hold now: `limit`, `slowLinkLimit` on a slow link, `farLinkLimit` on a far one. */
  private get window(): number {
    if (this.pace.slow) return this.slowLinkLimit;
    return this.pace.far ? this.farLinkLimit : this.limit;
  }

  /** Bytes held now (for tests and tracing). */
  get inUse(): number {
    return this.held + this.oversize;
  }

  /**
   * Resolves once `bytes` fit, counting them as held; the caller gives them back with `give`,
   * also when aborted (an aborted request is counted at once, to keep that rule simple).
   */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    const big = bytes > this.limit;
    if (signal?.aborted) {
      this.count(bytes, big);
      return Promise.resolve();
    }
    const queue = big ? this.oversized : this.ordinary;
    return new Promise<void>((resolve) => {
      const entry: Waiting = {
        bytes,
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const at = queue.indexOf(entry);
        if (at < 0) return;
        queue.splice(at, 1);
        this.count(bytes, big);
        entry.admit();
        this.admit();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(entry);
      this.admit();
    });
  }

  /** One FETCH of `bytes` that took `ms`: how the window learns the link is slow, or fast again. */
  fetched(bytes: number, ms: number): void {
    this.pace.fetched(bytes, ms);
    this.admit();
  }

  /** One source folder opened in `ms`: how the window learns the link is far, or near again. */
  opened(ms: number): void {
    this.pace.opened(ms);
    this.admit();
  }

  give(bytes: number): void {
    if (bytes > this.limit) this.oversize -= bytes;
    else this.held -= bytes;
    this.admit();
  }

  private count(bytes: number, big: boolean): void {
    if (big) this.oversize += bytes;
    else this.held += bytes;
  }

  /** Admits waiting requests, ordinary ones first, while the first of a kind fits. */
  private admit(): void {
    for (;;) {
      const first = this.ordinary[0];
      if (first && this.ordinaryFits(first.bytes)) {
        this.ordinary.shift();
        this.held += first.bytes;
        first.admit();
        continue;
      }
      const big = this.oversized[0];
      if (big && this.oversize === 0 && this.held <= this.window / 2) {
        this.oversized.shift();
        this.oversize = big.bytes;
        big.admit();
        continue;
      }
      return;
    }
  }

  private ordinaryFits(bytes: number): boolean {
    if (this.held === 0 && this.oversize === 0) return true;
    const share = this.oversize > 0 || this.oversized.length > 0 ? this.window / 2 : this.window;
    return this.held + bytes <= share;
  }
}

interface Waiting {
  bytes: number;
  admit: () => void;
}

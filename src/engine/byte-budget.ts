/**
 * The byte window of a run: bounds the message bytes held in memory across all workers and both
 * directions, from the FETCH that brings a batch in until its APPEND (or write to disk) is
 * answered. A batch is fetched only once its size fits; its bytes are given back when it is
 * written. Without it, 8 workers each fetching ahead a batch with a 20 MB attachment would hold
 * several hundred MB at once.
 *
 * A batch larger than the whole window (one huge message) goes alone: it waits until everything
 * held is given back. Requests are served in order, so nothing taken after it overtakes it (it
 * would starve while other workers kept taking), and once it waits, later ones wait behind it.
 * So the bound is the window or the largest message, whichever is larger, never their sum.
 */
export class ByteBudget {
  private held = 0;
  private readonly queue: Array<{ bytes: number; admit: () => void }> = [];

  constructor(private readonly limit: number) {}

  /** Bytes held now (for tests and tracing). */
  get inUse(): number {
    return this.held;
  }

  /**
   * Resolves once `bytes` fit, counting them as held; the caller gives them back with `give`,
   * also when aborted (an aborted request is counted at once, to keep that rule simple).
   */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return this.count(bytes);
    return new Promise<void>((resolve) => {
      const entry = {
        bytes,
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const at = this.queue.indexOf(entry);
        if (at < 0) return;
        this.queue.splice(at, 1);
        this.held += bytes;
        entry.admit();
        this.admit();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      this.admit();
    });
  }

  give(bytes: number): void {
    this.held -= bytes;
    this.admit();
  }

  private count(bytes: number): Promise<void> {
    this.held += bytes;
    return Promise.resolve();
  }

  /** Admits waiting requests in order while the first one fits (any request fits an empty window). */
  private admit(): void {
    while (this.queue.length > 0) {
      const first = this.queue[0]!;
      if (this.held > 0 && this.held + first.bytes > this.limit) return;
      this.queue.shift();
      this.held += first.bytes;
      first.admit();
    }
  }
}

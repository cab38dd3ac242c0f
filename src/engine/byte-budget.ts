/**
 * Bounds the message bytes a run holds in memory across all workers: a batch is fetched only once
 * its size fits, and its bytes are given back when it is written. Without it, 8 workers each
 * fetching ahead a batch with a 20 MB attachment would hold several hundred MB at once.
 *
 * A batch larger than the whole budget (one huge message) is held beside it, one such batch at a
 * time: it waits for the previous one, not for the budget to empty. Waiting for an empty budget
 * starved it while other workers kept taking (at 40 ms RTT a 20 MB message waited over a second,
 * last of the run), and while held it stopped every other fetch. So the bound is the budget plus
 * the largest message.
 */
export class ByteBudget {
  private held = 0;
  private oversize = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (bytes > this.limit) {
      while (this.oversize && !signal?.aborted) await this.wait();
      this.oversize = true;
      return;
    }
    while (this.held > 0 && this.held + bytes > this.limit && !signal?.aborted) await this.wait();
    this.held += bytes;
  }

  give(bytes: number): void {
    if (bytes > this.limit) this.oversize = false;
    else this.held -= bytes;
    for (const wake of this.waiting.splice(0)) wake();
  }

  private wait(): Promise<void> {
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}

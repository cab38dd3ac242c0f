/**
 * Bounds the message bytes a run holds in memory across all workers: a batch is fetched only once
 * its size fits, and its bytes are given back when it is written. Without it, 8 workers each
 * fetching ahead a batch with a 20 MB attachment would hold several hundred MB at once.
 * One batch larger than the whole budget still goes ahead when nothing else is held.
 */
export class ByteBudget {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    while (this.held > 0 && this.held + bytes > this.limit && !signal?.aborted) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.held += bytes;
  }

  give(bytes: number): void {
    this.held -= bytes;
    for (const wake of this.waiting.splice(0)) wake();
  }
}

/**
 * Connection slots shared by all folder workers of a run: one per `--connections`. A folder takes
 * one to run; a big folder takes the idle ones too and copies UID ranges in parallel, so the
 * last big folder of a run does not crawl along on one connection while the others sit idle.
 */
export class Lanes {
  private used = 0;

  constructor(private readonly total: number) {}

  /** A folder worker starts (p-queue already bounds these to `total`). */
  enter(): void {
    this.used++;
  }

  leave(n = 1): void {
    this.used -= n;
  }

  /** Takes up to `wanted` idle slots without waiting; returns how many it got. */
  takeIdle(wanted: number): number {
    const n = Math.max(0, Math.min(wanted, this.total - this.used));
    this.used += n;
    return n;
  }
}

/**
 * Whether the run's FETCHes are held back by the link: the median rate of its last few sizeable
 * FETCHes (bytes over the time each took) is below `SLOW_BYTES_PER_SECOND`. Small FETCHes are
 * left out: their time is round trips, not bytes. On loopback a batch comes in at 50–150 MB/s a
 * connection; over a 4 MB/s uplink shared by four connections, at about 1 MB/s.
 */
export class LinkPace {
  private readonly rates: number[] = [];

  /**
   * One FETCH of `bytes` that took `ms`. One answered in under a millisecond came from memory (a
   * small folder's messages come with its scan) and says nothing of the link.
   */
  fetched(bytes: number, ms: number): void {
    if (bytes < SIZEABLE_BYTES || ms < 1) return;
    this.rates.push((bytes * 1000) / ms);
    if (this.rates.length > RECENT) this.rates.shift();
  }

  get slow(): boolean {
    if (this.rates.length < RECENT) return false;
    const sorted = [...this.rates].sort((a, b) => a - b);
    return sorted[Math.floor(RECENT / 2)]! < SLOW_BYTES_PER_SECOND;
  }
}

const SIZEABLE_BYTES = 256 * 1024;
const RECENT = 3;
const SLOW_BYTES_PER_SECOND = 8 << 20;

/**
 * Whether the run's link holds its batches back, so that more bytes in flight keep it busy: its
 * FETCHes come in slowly (`slow`: the median rate of its last few sizeable FETCHes, bytes over the
 * time each took, is below `SLOW_BYTES_PER_SECOND`), or it is far (`far`: each of the last few
 * folder opens took at least `FAR_MS`, a round trip). Small FETCHes are left out of the rate:
 * their time is round trips, not bytes. On loopback a batch comes in at 50–150 MB/s a connection
 * and a folder opens in a few ms; over a 4 MB/s uplink shared by four connections a batch comes
 * in at about 1 MB/s; at 100 ms a batch spends round trips between its FETCH and its APPEND's
 * answer, and a narrow window left the workers waiting for memory.
 */
export class LinkPace {
  private readonly rates: number[] = [];
  private readonly opens: number[] = [];

  /**
   * One FETCH of `bytes` that took `ms`. One answered in under a millisecond came from memory (a
   * small folder's messages come with its scan) and says nothing of the link.
   */
  fetched(bytes: number, ms: number): void {
    if (bytes < SIZEABLE_BYTES || ms < 1) return;
    this.rates.push((bytes * 1000) / ms);
    if (this.rates.length > RECENT) this.rates.shift();
  }

  /** One folder opened at the source in `ms` (at least a round trip for a server, nothing for local files). */
  opened(ms: number): void {
    this.opens.push(ms);
    if (this.opens.length > RECENT) this.opens.shift();
  }

  /** FETCHes come in slowly: a capped link. */
  get slow(): boolean {
    if (this.rates.length < RECENT) return false;
    const sorted = [...this.rates].sort((a, b) => a - b);
    return sorted[Math.floor(RECENT / 2)]! < SLOW_BYTES_PER_SECOND;
  }

  /** Every one of the last opens was slow: one quick open (a quiet moment on loopback) says the link is near. */
  get far(): boolean {
    return this.opens.length === RECENT && Math.min(...this.opens) >= FAR_MS;
  }
}

const SIZEABLE_BYTES = 256 * 1024;
const RECENT = 3;
const SLOW_BYTES_PER_SECOND = 8 << 20;
const FAR_MS = 60;

import { DailyLimitError } from '../errors/errors.js';
import type { Checkpoint } from './checkpoint.js';

export interface TrafficLimits {
  /** Bytes per second over the whole run, both directions counted once (what is fetched). */
  maxBytesPerSecond?: number;
  maxMessagesPerSecond?: number;
  /** Bytes a day that may be fetched from the source account (Gmail: 2,500 MB). */
  dailyDown?: number;
  /** Bytes a day that may be appended to the destination account (Gmail: 500 MB). */
  dailyUp?: number;
}

/**
 * Keeps a run within a provider's limits: a rate for all workers together, and daily caps whose
 * count lives in the checkpoint, so that tomorrow's rerun knows what today's runs moved. A batch
 * that would pass a cap is not started: the run stops cleanly and says when to rerun.
 */
export class TrafficControl {
  private readonly started = Date.now();
  private bytes = 0;
  private messages = 0;
  /** Counted but not yet in the checkpoint: written with the batch's own transaction. */
  private readonly unsaved = { down: 0, up: 0 };

  constructor(
    private readonly limits: TrafficLimits,
    private readonly checkpoint: Checkpoint,
    private readonly accounts: { source: string; dest: string },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Before fetching: waits out the rate limit, refuses a batch that would pass the download cap. */
  async beforeFetch(messages: number, bytes: number, signal?: AbortSignal): Promise<void> {
    this.checkCap('download', this.accounts.source, 'down', this.limits.dailyDown, bytes);
    this.messages += messages;
    this.bytes += bytes;
    const { maxBytesPerSecond: bps, maxMessagesPerSecond: mps } = this.limits;
    const due = Math.max(bps ? this.bytes / bps : 0, mps ? this.messages / mps : 0) * 1000;
    const wait = this.started + due - Date.now();
    if (wait > 0 && !signal?.aborted) await new Promise((r) => setTimeout(r, wait));
  }

  afterFetch(bytes: number): void {
    this.unsaved.down += bytes;
  }

  /** Before appending: refuses a batch that would pass the upload cap. */
  beforeAppend(bytes: number): void {
    this.checkCap('upload', this.accounts.dest, 'up', this.limits.dailyUp, bytes);
  }

  afterAppend(bytes: number): void {
    this.unsaved.up += bytes;
  }

  /** Writes what was counted since the last call (call it inside the batch's transaction). */
  flush(): void {
    const day = this.day();
    if (this.unsaved.down > 0) this.checkpoint.addUsage(this.accounts.source, day, this.unsaved.down, 0);
    if (this.unsaved.up > 0) this.checkpoint.addUsage(this.accounts.dest, day, 0, this.unsaved.up);
    this.unsaved.down = 0;
    this.unsaved.up = 0;
  }

  private checkCap(what: string, account: string, key: 'down' | 'up', cap: number | undefined, bytes: number): void {
    if (cap === undefined) return;
    const used = this.checkpoint.usage(account, this.day())[key] + this.unsaved[key];
    if (used + bytes <= cap) return;
    const midnight = new Date(this.now());
    midnight.setUTCHours(24, 0, 0, 0);
    throw new DailyLimitError(
      `daily ${what} limit of ${mb(cap)} for ${account} reached (${mb(used)} moved today); rerun after ${midnight.toISOString().slice(0, 16).replace('T', ' ')} UTC resumes`,
    );
  }

  private day(): string {
    return this.now().toISOString().slice(0, 10);
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

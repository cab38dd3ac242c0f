import type { SchedulerEvent } from './scheduler.js';

/**
 * The live counts of a run: accounts finished for this run, and messages and bytes moved (the
 * finished attempts' copied counts plus what running attempts have settled so far).
 */
export class CampaignProgress {
  readonly startedAt = Date.now();
  finished = 0;
  failed = 0;
  private copied = { messages: 0, bytes: 0 };
  private readonly live = new Map<string, { messages: number; bytes: number }>();

  constructor(readonly total: number) {}

  apply(e: SchedulerEvent): void {
    if (e.type === 'started') this.live.set(e.account.key, { messages: 0, bytes: 0 });
    else if (e.type === 'progress') this.live.set(e.account.key, { messages: e.messages, bytes: e.bytes });
    else {
      this.live.delete(e.account.key);
      this.copied = { messages: this.copied.messages + e.outcome.messages, bytes: this.copied.bytes + e.outcome.bytes };
      if (e.state === 'done' || e.state === 'failed') this.finished++;
      if (e.state === 'failed') this.failed++;
    }
  }

  moved(): { messages: number; bytes: number } {
    let { messages, bytes } = this.copied;
    for (const l of this.live.values()) {
      messages += l.messages;
      bytes += l.bytes;
    }
    return { messages, bytes };
  }

  /** Seconds left at the pace of the accounts finished so far; undefined before the first. */
  etaSeconds(): number | undefined {
    if (this.finished === 0) return undefined;
    return Math.round((((Date.now() - this.startedAt) / this.finished) * (this.total - this.finished)) / 1000);
  }
}

export function bytesText(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function durationText(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

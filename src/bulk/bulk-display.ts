import cliProgress from 'cli-progress';
import { fitToWidth } from '../reporting/display-width.js';
import type { Logger } from '../reporting/logger.js';
import type { BulkAccount } from './bulk-account.js';
import { bytesText, durationText, type CampaignProgress } from './campaign-progress.js';
import type { SchedulerEvent } from './scheduler.js';

/** How a bulk run shows its progress on stderr. */
export interface BulkDisplay {
  event(e: SchedulerEvent): void;
  stop(): void;
}

const name = (a: BulkAccount): string => a.id ?? a.from;

/** One line per account that starts, finishes, fails or waits to retry: for logs and pipes. */
export class PlainLines implements BulkDisplay {
  constructor(private readonly logger: Logger) {}

  event(e: SchedulerEvent): void {
    const where = `${name(e.account)} (line ${e.account.origin.line})`;
    if (e.type === 'started') this.logger.info(`${where}: started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
    else if (e.type === 'finished') {
      const took = durationText(e.outcome.durationMs / 1000);
      if (e.state === 'done') this.logger.info(`${where}: done, ${e.outcome.messages} messages (${bytesText(e.outcome.bytes)}) copied in ${took}`);
      else if (e.state === 'retrying') this.logger.warn(`${where}: ${e.outcome.line}; retrying in ${durationText((e.retryInMs ?? 0) / 1000)}`);
      else if (e.state === 'failed') this.logger.warn(`${where}: failed: ${e.outcome.line}`);
      else this.logger.info(`${where}: stopped; a rerun resumes it`);
    }
  }

  stop(): void {}
}

/** On a terminal: one overall bar (accounts, messages, bytes, ETA) and one line per running account. */
export class Bars implements BulkDisplay {
  private readonly bars = new cliProgress.MultiBar(
    { format: '{name} [{bar}] {value}/{total} {detail}', hideCursor: true, clearOnComplete: true, stream: process.stderr, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  private readonly overall: cliProgress.SingleBar;
  private readonly lines = new Map<string, cliProgress.SingleBar>();

  constructor(private readonly progress: CampaignProgress) {
    this.overall = this.bars.create(progress.total, 0, { name: fitToWidth('accounts', 24), detail: '' });
  }

  event(e: SchedulerEvent): void {
    if (e.type === 'started') this.lines.set(e.account.key, this.bars.create(0, 0, { name: fitToWidth(name(e.account), 24), detail: '' }, { format: '{name} {detail}' }));
    else if (e.type === 'progress') this.lines.get(e.account.key)?.update(0, { detail: `${e.messages} messages, ${bytesText(e.bytes)}` });
    else {
      const line = this.lines.get(e.account.key);
      this.lines.delete(e.account.key);
      if (line) this.bars.remove(line);
      if (e.state === 'failed' || e.state === 'retrying') this.bars.log(`${name(e.account)} (line ${e.account.origin.line}): ${e.state === 'failed' ? 'failed: ' : ''}${e.outcome.line}${e.state === 'retrying' ? '; will retry' : ''}\n`);
    }
    const moved = this.progress.moved();
    const eta = this.progress.etaSeconds();
    this.overall.update(this.progress.finished, { detail: `${moved.messages} messages, ${bytesText(moved.bytes)}${eta !== undefined ? `, ETA ${durationText(eta)}` : ''}` });
  }

  stop(): void {
    this.bars.stop();
  }
}

import cliProgress from 'cli-progress';
import type { EngineEvent } from '../engine/events.js';
import type { FolderReport } from '../engine/report.js';
import type { JobResult } from '../jobs/job-result.js';
import { EXIT_CODES } from '../errors/exit-codes.js';
import { stripControl, type Logger } from './logger.js';
import { verifyText } from './verify-report.js';

export interface Reporter {
  emit(event: EngineEvent): void;
  /** Prints the final summary (JSON or text) and stops any live display. */
  finish(result: JobResult): void;
  /** Stops any live display without a summary (the run failed). */
  abort(): void;
}

export interface ReporterOptions {
  json: boolean;
  quiet: boolean;
  tty: boolean;
  logger: Logger;
  out: (text: string) => void;
}

/** Bars on a terminal, periodic plain lines otherwise (cron, CI, pipes); both on stderr. */
export function createReporter(opts: ReporterOptions): Reporter {
  const live = opts.quiet || opts.json ? undefined : opts.tty ? new BarsDisplay() : new PlainDisplay(opts.logger);
  return {
    emit(event) {
      if (event.type === 'notice') opts.logger.warn(event.message);
      else if (event.type === 'folder-done' && event.report.error) opts.logger.error(`${event.report.source}: ${event.report.error}`);
      else if (event.type === 'folder-done') for (const f of event.report.failures) opts.logger.warn(`${event.report.source} UID ${f.uid}: ${f.reason}: ${f.message}`);
      live?.emit(event);
    },
    finish(result) {
      live?.stop();
      opts.out(opts.json ? JSON.stringify(jsonSummary(result), null, 2) : textSummary(result));
    },
    abort() {
      live?.stop();
    },
  };
}

interface Display {
  emit(event: EngineEvent): void;
  stop(): void;
}

class Counter {
  messages = 0;
  bytes = 0;
  totalMessages = 0;
  readonly started = Date.now();

  line(): string {
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? this.messages / secs : 0;
    return `${this.messages}/${this.totalMessages} messages, ${mb(this.bytes)}, ${rate.toFixed(0)} msg/s`;
  }
}

class PlainDisplay implements Display {
  private readonly counter = new Counter();
  private readonly timer: NodeJS.Timeout;

  // Per-folder results are in the final summary; in between, one line every 10 s for cron logs.
  constructor(private readonly logger: Logger) {
    this.timer = setInterval(() => this.logger.info(`progress: ${this.counter.line()}`), 10_000);
    this.timer.unref();
  }

  emit(event: EngineEvent): void {
    if (event.type === 'folder-start') this.counter.totalMessages += event.messages;
    if (event.type === 'progress') {
      this.counter.messages += event.messages;
      this.counter.bytes += event.bytes;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

class BarsDisplay implements Display {
  private readonly bars = new cliProgress.MultiBar(
    { format: '{name} [{bar}] {value}/{total} {detail}', hideCursor: true, clearOnComplete: true, stream: process.stderr, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  private readonly total = this.bars.create(0, 0, { name: 'total'.padEnd(24), detail: '' });
  private readonly folders = new Map<string, cliProgress.SingleBar>();
  private readonly counter = new Counter();

  emit(event: EngineEvent): void {
    switch (event.type) {
      case 'folder-start': {
        this.counter.totalMessages += event.messages;
        this.total.setTotal(this.counter.totalMessages);
        if (event.messages > 0) this.folders.set(event.source, this.bars.create(event.messages, 0, { name: label(event.source), detail: '' }));
        break;
      }
      case 'progress': {
        this.counter.messages += event.messages;
        this.counter.bytes += event.bytes;
        this.folders.get(event.source)?.increment(event.messages);
        const secs = (Date.now() - this.counter.started) / 1000;
        const rate = secs > 0 ? this.counter.messages / secs : 0;
        const eta = rate > 0 ? (this.counter.totalMessages - this.counter.messages) / rate : 0;
        this.total.update(this.counter.messages, { detail: `${mb(this.counter.bytes)} ${rate.toFixed(0)} msg/s ETA ${eta.toFixed(0)}s` });
        break;
      }
      case 'folder-done': {
        const bar = this.folders.get(event.report.source);
        if (bar) this.bars.remove(bar);
        this.folders.delete(event.report.source);
        break;
      }
      default:
        break;
    }
  }

  stop(): void {
    this.bars.stop();
  }
}

function label(name: string): string {
  const clean = stripControl(name);
  return (clean.length > 24 ? '…' + clean.slice(-23) : clean).padEnd(24);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function jsonSummary(result: JobResult): object {
  return {
    command: result.command,
    source: result.source,
    destination: result.destination,
    dryRun: result.dryRun,
    folders: result.folders.map((f: FolderReport) => ({
      source: f.source,
      destination: f.destination,
      found: f.found,
      copied: f.copied,
      present: f.present,
      skipped: f.skipped,
      failed: f.failed,
      failures: f.failures,
      oversize: f.oversize,
      bytes: f.bytes,
      flagsUpdated: f.flagsUpdated,
      ...(f.removed !== undefined ? { removed: f.removed } : {}),
      ...(f.error ? { error: f.error } : {}),
    })),
    totals: result.totals,
    seconds: Number(result.seconds.toFixed(3)),
    reconnects: result.reconnects,
    exitCode: EXIT_CODES[result.exit].status,
    checkpoint: result.checkpoint,
    ...(result.verify ? { verify: result.verify } : {}),
    ...(result.archive ? { archive: result.archive } : {}),
  };
}

function textSummary(result: JobResult): string {
  const t = result.totals;
  const lines: string[] = [];
  if (result.dryRun) {
    lines.push(`dry run: ${result.source} -> ${result.destination} (nothing written)`);
    for (const f of result.folders) lines.push(`  ${stripControl(f.source)} -> ${stripControl(f.destination)}  (${f.found} messages)`);
    lines.push(`${t.folders} folders, ${t.found} messages`);
    return lines.join('\n');
  }
  for (const f of result.folders) {
    const skipped = Object.entries(f.skipped).map(([k, v]) => `${v} ${k}`).join(', ');
    const parts = [`${f.copied} copied`, f.present ? `${f.present} already there` : '', skipped ? `skipped ${skipped}` : '', f.failed ? `${f.failed} FAILED` : '', f.flagsUpdated ? `${f.flagsUpdated} flag updates` : '', f.removed ? `${f.removed} removed` : '', f.error ? `ERROR ${f.error}` : '']
      .filter(Boolean)
      .join(', ');
    if (f.copied + f.present + f.failed + f.flagsUpdated + (f.removed ?? 0) + Object.keys(f.skipped).length > 0 || f.error) {
      lines.push(`  ${stripControl(f.source)} -> ${stripControl(f.destination)}: ${stripControl(parts)}`);
    }
    for (const o of f.oversize) lines.push(`    too large for the destination: UID ${o.uid} (${mb(o.size)})${o.savedTo ? `, saved to ${o.savedTo}` : ''}`);
  }
  if (result.reconnects) lines.push(`reconnects: ${result.reconnects} (broken connections re-opened by the run itself)`);
  if (result.archive) lines.push(`archive: ${result.archive}`);
  if (result.verify) lines.push(verifyText(result.verify));
  lines.push(
    `${result.command}: ${t.copied} copied (${mb(t.bytes)}), ${t.present} already there, ${t.skipped} skipped, ${t.failed} failed, ${t.flagsUpdated} flag updates; ${t.folders} folders, ${t.found} messages at the source, ${result.seconds.toFixed(1)} s`,
  );
  return lines.join('\n');
}

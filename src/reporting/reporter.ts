import cliProgress from 'cli-progress';
import type { EngineEvent } from '../engine/events.js';
import type { FolderReport } from '../engine/report.js';
import { finishResult, type JobResult } from '../jobs/job-result.js';
import { EXIT_CODES } from '../errors/exit-codes.js';
import { fitToWidth, padToWidth } from './display-width.js';
import type { Failure } from '../errors/failure.js';
import { stripControl, type Logger } from './logger.js';
import { counted } from './plural.js';
import type { RunSummary } from './run-summary.js';
import { verifyText } from './verify-report.js';
import { ProgressModel } from './progress-model.js';
import { EtaWatch, ETA_AFTER_MS } from './eta-watch.js';
import { firstRunLines } from './first-run-text.js';
import type { RunPlan } from '../engine/run-plan.js';

export interface Reporter {
  emit(event: EngineEvent): void;
  /** Prints the final summary (JSON or text) and stops any live display. */
  finish(result: JobResult): void;
  /** The run failed: stops any live display; with --json, prints the summary of what was done, with the error; returns that summary. */
  fail(failure: Failure): object;
}

export interface ReporterOptions {
  /** The command run, for the summary of a run that failed. */
  command: string;
  json: boolean;
  quiet: boolean;
  tty: boolean;
  logger: Logger;
  out: (text: string) => void;
  /** How long a first run goes before it prints its ETA (default: a minute; tests shorten it). */
  etaAfterMs?: number;
}

/** Bars on a terminal, periodic plain lines otherwise (cron, CI, pipes); both on stderr. */
export function createReporter(opts: ReporterOptions): Reporter {
  const live = opts.quiet || opts.json ? undefined : opts.tty ? new BarsDisplay() : new PlainDisplay(opts.logger);
  const sofar = new RunSoFar(opts.command);
  // Part of the progress, so only where progress shows (not with --quiet or --json, whose
  // summary has the plan); a quota warning is a warning, and shows always.
  const eta = new EtaWatch(opts.etaAfterMs ?? ETA_AFTER_MS, (line) => opts.logger.info(line));
  return {
    emit(event) {
      sofar.emit(event);
      if (event.type === 'first-run') {
        const lines = firstRunLines(event.plan);
        if (live) for (const line of lines.info) opts.logger.info(line);
        if (lines.warning) opts.logger.warn(lines.warning);
        if (live) eta.start(event.plan);
      } else if (event.type === 'progress') eta.progress(event.messages, event.bytes);
      if (event.type === 'notice') opts.logger.warn(event.message);
      else if (event.type === 'folder-done' && event.report.error) opts.logger.error(`${event.report.source}: ${event.report.error}`);
      else if (event.type === 'folder-done') for (const f of event.report.failures) opts.logger.warn(`${event.report.source} UID ${f.uid}: ${f.reason}: ${f.message}`);
      live?.emit(event);
    },
    finish(result) {
      eta.stop();
      live?.stop();
      // -q: nothing on a good run (warnings and errors went to stderr as they came); a dry run's
      // plan is what was asked for, and a run that failed still says what it did.
      if (opts.quiet && !opts.json && !result.dryRun && result.exit === 'ok') return;
      opts.out(opts.json ? JSON.stringify(jsonSummary(result), null, 2) : textSummary(result));
    },
    fail(failure) {
      eta.stop();
      live?.stop();
      const summary = sofar.summary(failure);
      if (opts.json) opts.out(JSON.stringify(summary, null, 2));
      return summary;
    },
  };
}

/** What a run has done so far, from its events: the summary of a run that then failed. */
class RunSoFar {
  private readonly started = Date.now();
  private accounts?: { source: string; destination: string };
  private plan?: RunPlan;
  private readonly folders: FolderReport[] = [];

  constructor(private readonly command: string) {}

  emit(event: EngineEvent): void {
    if (event.type === 'accounts') this.accounts = { source: event.source, destination: event.destination };
    if (event.type === 'folder-done') this.folders.push(event.report);
    if (event.type === 'first-run') this.plan = event.plan;
  }

  /** The usual document, with the exit code of the failure and its line; accounts not known yet are null. */
  summary(failure: Failure): object {
    const result = finishResult({ command: this.command, source: '', destination: '', dryRun: false, folders: this.folders, seconds: (Date.now() - this.started) / 1000, ...(this.plan ? { plan: this.plan } : {}) });
    return {
      ...jsonSummary({ ...result, exit: failure.kind }),
      source: this.accounts?.source ?? null,
      destination: this.accounts?.destination ?? null,
      error: failure.line,
    };
  }
}

interface Display {
  emit(event: EngineEvent): void;
  stop(): void;
}

/** The run's progress in words: done of total, bytes, rate, and the ETA or what is still being counted. */
function totalLine(model: ProgressModel): { done: number; total: number; detail: string } {
  const t = model.total();
  const rate = t.seconds > 0 ? t.messages / t.seconds : 0;
  const bytes = t.counting > 0 ? mb(t.bytes) : `${(t.bytes / 1e6).toFixed(1)} of ${mb(t.totalBytes)}`;
  const when = t.etaSeconds !== undefined ? `ETA ${t.etaSeconds.toFixed(0)} s` : t.counting > 0 ? `counting (${t.counting} of ${t.folders} folders not started)` : '';
  return { done: t.messages, total: t.totalMessages, detail: [bytes, `${rate.toFixed(0)} msg/s`, when].filter(Boolean).join(', ') };
}

class PlainDisplay implements Display {
  private readonly model = new ProgressModel();
  private readonly timer: NodeJS.Timeout;

  // Per-folder results are in the final summary; in between, one line every 10 s for cron logs.
  constructor(private readonly logger: Logger) {
    this.timer = setInterval(() => {
      const line = totalLine(this.model);
      this.logger.info(`progress: ${line.done}/${line.total} messages, ${line.detail}`);
    }, 10_000);
    this.timer.unref();
  }

  emit(event: EngineEvent): void {
    this.model.apply(event);
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
  private readonly total = this.bars.create(0, 0, { name: padToWidth('total', 24), detail: '' });
  private readonly folders = new Map<string, cliProgress.SingleBar>();
  private readonly model = new ProgressModel();
  /** Finished folders' bars, shown full for a moment before they go. */
  private readonly lingering = new Set<NodeJS.Timeout>();

  emit(event: EngineEvent): void {
    this.model.apply(event);
    switch (event.type) {
      case 'folder-start': {
        const f = this.model.folderProgress(event.source)!;
        const bar = this.folders.get(event.source);
        if (bar) {
          bar.setTotal(f.totalMessages);
          bar.update(f.messages);
        } else if (f.totalMessages > 0) {
          this.folders.set(event.source, this.bars.create(f.totalMessages, f.messages, { name: label(event.source), detail: '' }));
        }
        break;
      }
      case 'progress':
        this.folders.get(event.source)?.update(this.model.folderProgress(event.source)!.messages);
        break;
      case 'folder-done': {
        const bar = this.folders.get(event.report.source);
        this.folders.delete(event.report.source);
        if (!bar) break;
        const f = this.model.folderProgress(event.report.source)!;
        bar.setTotal(f.totalMessages);
        bar.update(f.messages);
        const timer = setTimeout(() => {
          this.lingering.delete(timer);
          this.bars.remove(bar);
        }, LINGER_MS);
        this.lingering.add(timer);
        break;
      }
      default:
        break;
    }
    const line = totalLine(this.model);
    this.total.setTotal(line.total);
    this.total.update(line.done, { detail: line.detail });
  }

  stop(): void {
    for (const timer of this.lingering) clearTimeout(timer);
    this.bars.stop();
  }
}

/** How long a finished folder's bar stays, full, before it goes. */
const LINGER_MS = 1_000;

/** A folder's name in the bars' name column: 24 terminal cells, whatever the characters. */
export function label(name: string): string {
  return fitToWidth(stripControl(name), 24);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function jsonSummary(result: JobResult): RunSummary {
  return {
    command: result.command,
    source: result.source,
    destination: result.destination,
    dryRun: result.dryRun,
    ...(result.search !== undefined ? { search: result.search } : {}),
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
      alteredByServer: f.alteredByServer,
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
    ...(result.plan ? { plan: result.plan } : {}),
  };
}

/** `72 before-since, 3 over-max-size` */
function skipText(f: FolderReport): string {
  return Object.entries(f.skipped).map(([k, v]) => `${v} ${k}`).join(', ');
}

function textSummary(result: JobResult): string {
  const t = result.totals;
  const lines: string[] = [];
  if (result.dryRun) {
    lines.push(`dry run: ${result.source} -> ${result.destination} (nothing written)`);
    for (const f of result.folders) {
      const would = [`would copy ${f.copied} (${mb(f.bytes)})`, skipText(f) ? `skip ${skipText(f)}` : '', f.removed ? `remove ${f.removed} at the destination` : '', f.error ? `ERROR ${f.error}` : ''].filter(Boolean).join(', ');
      lines.push(`  ${stripControl(f.source)} -> ${stripControl(f.destination)}  (${counted(f.found, 'message')}): ${stripControl(would)}`);
    }
    lines.push(`${counted(t.folders, 'folder')}, ${counted(t.found, 'message')} at the source: would copy ${t.copied} (${mb(t.bytes)}), skip ${t.skipped}`);
    return lines.join('\n');
  }
  for (const f of result.folders) {
    const skipped = skipText(f);
    const parts = [`${f.copied} copied`, f.present ? `${f.present} already there` : '', skipped ? `skipped ${skipped}` : '', f.failed ? `${f.failed} FAILED` : '', f.flagsUpdated ? counted(f.flagsUpdated, 'flag update') : '', f.alteredByServer.length ? `${f.alteredByServer.length} altered by the server` : '', f.removed ? `${f.removed} removed` : '', f.error ? `ERROR ${f.error}` : '']
      .filter(Boolean)
      .join(', ');
    if (f.copied + f.present + f.failed + f.flagsUpdated + (f.removed ?? 0) + Object.keys(f.skipped).length > 0 || f.error) {
      lines.push(`  ${stripControl(f.source)} -> ${stripControl(f.destination)}: ${stripControl(parts)}`);
    }
    for (const a of f.alteredByServer) lines.push(`    altered by the server: UID ${a.uid} (${a.size} bytes) stored as ${a.destUid !== undefined ? `UID ${a.destUid}, ` : ''}${a.destSize} bytes`);
    for (const o of f.oversize) lines.push(`    too large for the destination: UID ${o.uid} (${mb(o.size)})${o.savedTo ? `, saved to ${o.savedTo}` : ''}`);
  }
  if (result.reconnects) lines.push(`reconnects: ${result.reconnects} (broken connections re-opened by the run itself)`);
  if (result.archive) lines.push(`archive: ${result.archive}`);
  if (result.verify) lines.push(verifyText(result.verify));
  lines.push(
    `${result.command}: ${t.copied} copied (${mb(t.bytes)}), ${t.present} already there, ${t.skipped} skipped, ${t.failed} failed, ${counted(t.flagsUpdated, 'flag update')}${t.alteredByServer ? `, ${t.alteredByServer} altered by the server` : ''}; ${counted(t.folders, 'folder')}, ${counted(t.found, 'message')} at the source, ${result.seconds.toFixed(1)} s`,
  );
  return lines.join('\n');
}

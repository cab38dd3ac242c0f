import type { EngineEvent } from '../engine/events.js';
import { exitStatus } from '../errors/exit-codes.js';
import { failureOf } from '../errors/failure.js';
import { openJsonLinesLog, type JsonLinesLog } from '../reporting/json-lines-log.js';
import type { CliContext } from './context.js';

/** What a command gives a run's log besides its diagnostic lines (set while a log is open). */
export interface JobLog {
  event(event: EngineEvent): void;
  /** The run's summary, as --json prints it: the log's last line. */
  summary(document: object): void;
}

/** Runs `body` with its log also written to --log-file FILE, when given; a FILE that cannot be written stops it before it starts. */
export async function withLogFile(ctx: CliContext, file: string | undefined, body: () => Promise<void>): Promise<void> {
  if (file === undefined) return body();
  const log = openLog(ctx, file);
  try {
    await logged(ctx, log, body);
  } finally {
    closeLog(ctx, log);
  }
}

/** The log at `file`, redacted as the terminal's lines are. */
export function openLog(ctx: CliContext, file: string): JsonLinesLog {
  return openJsonLinesLog(file, (text) => ctx.logger.redact(text));
}

/** Closes `log`; a log cut short (a full disk) is told, not fatal: the run it logged went on. */
export function closeLog(ctx: CliContext, log: JsonLinesLog): void {
  const failure = log.close();
  if (failure) ctx.logger.warn(`${failure.message}; the log is incomplete`);
}

/**
 * Runs `body` with everything it logs (debug lines with --debug, info lines even with --quiet),
 * its engine events and, last, its summary with the exit code also written to `log`. A run that
 * fails has its error line logged here (main.ts prints it on stderr after), then its summary.
 * What only prepares a run (`run` reading its job file) is summarized only when it fails.
 */
export async function logged(ctx: CliContext, log: JsonLinesLog, body: () => Promise<void>, summarize: 'always' | 'on-failure' = 'always'): Promise<void> {
  let summary: object | undefined;
  const stop = ctx.logger.copyTo(ctx.debug ? 'debug' : 'info', (level, text) => log.line(level, text));
  ctx.jobLog = { event: (e) => log.event(e), summary: (doc) => (summary = doc) };
  try {
    await body();
    if (summarize === 'always') log.record('summary', summary ?? { exitCode: ctx.exitStatus });
  } catch (err) {
    const failure = failureOf(err, ctx.signal.aborted);
    log.line('error', failure.line);
    log.record('summary', summary ?? { exitCode: exitStatus(failure.kind), error: failure.line });
    throw err;
  } finally {
    stop();
    ctx.jobLog = undefined;
  }
}

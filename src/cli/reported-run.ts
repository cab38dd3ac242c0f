import type { EmitEvent } from '../engine/events.js';
import { exitStatus } from '../errors/exit-codes.js';
import { failureOf } from '../errors/failure.js';
import type { JobResult } from '../jobs/job-result.js';
import { createReporter, jsonSummary } from '../reporting/reporter.js';
import type { CliContext } from './context.js';

/**
 * Runs a copying job (migrate, backup, restore) with progress on stderr and the summary on stdout,
 * and sets the exit status from its result. A failed job stops the live display (and prints its
 * --json document) before the error propagates to main.ts.
 */
export async function runReported(ctx: CliContext, argv: { json: boolean; quiet: boolean; 'eta-after-ms'?: number; _?: Array<string | number> }, job: (emit: EmitEvent) => Promise<JobResult>): Promise<void> {
  const command = String(argv._?.[0] ?? '');
  const reporter = createReporter({ command, json: argv.json, quiet: argv.quiet, tty: ctx.stderrIsTTY, logger: ctx.logger, out: ctx.out, etaAfterMs: argv['eta-after-ms'] });
  try {
    const result = await job((e) => {
      reporter.emit(e);
      ctx.jobLog?.event(e);
    });
    reporter.finish(result);
    ctx.jobLog?.summary(jsonSummary(result));
    ctx.exitStatus = exitStatus(result.exit);
  } catch (err) {
    // A script reading --json gets its document whatever happened; main.ts still prints the line.
    // (Called apart from the log: `jobLog?.summary(...)` would not evaluate it without a log.)
    const summary = reporter.fail(failureOf(err, ctx.signal.aborted));
    ctx.jobLog?.summary(summary);
    throw err;
  }
}

import type { EmitEvent } from '../engine/events.js';
import { exitStatus } from '../errors/exit-codes.js';
import type { JobResult } from '../jobs/job-result.js';
import { createReporter } from '../reporting/reporter.js';
import type { CliContext } from './context.js';

/**
 * Runs a copying job (migrate, backup, restore) with progress on stderr and the summary on stdout,
 * and sets the exit status from its result. A failed job stops the live display before the error
 * propagates to main.ts.
 */
export async function runReported(ctx: CliContext, argv: { json: boolean; quiet: boolean }, job: (emit: EmitEvent) => Promise<JobResult>): Promise<void> {
  const reporter = createReporter({ json: argv.json, quiet: argv.quiet, tty: ctx.stderrIsTTY, logger: ctx.logger, out: ctx.out });
  try {
    const result = await job((e) => reporter.emit(e));
    reporter.finish(result);
    ctx.exitStatus = exitStatus(result.exit);
  } catch (err) {
    reporter.abort();
    throw err;
  }
}

#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=4
// The shebang carries the runtime settings that keep a run's memory low (docs/performance.md,
// "Memory"), which cannot be set from inside the process: V8's young generation capped at 4 MB a
// semi-space (by default it grows to 16), so dead message buffers are collected sooner; glibc
// gives buffers of 128 KB and more back to the system when freed (its mmap threshold otherwise
// rises to the largest buffer freed, 20 MB), and uses two arenas. `node dist/bin/main.js` runs
// without them. Under 127 characters: older kernels cut a longer shebang line.
import type { CliContext } from './cli/context.js';
import { MailferryError } from './errors/errors.js';
import { exitStatus } from './errors/exit-codes.js';
import { tolerateClosedPipe } from './reporting/closed-pipe.js';
import { failureOf } from './errors/failure.js';
import { StderrLogger } from './reporting/logger.js';
import { traceMemory } from './reporting/memory-trace.js';

/** The only module that ends the process: everything else throws typed errors or returns. */
async function main(): Promise<number> {
  tolerateClosedPipe(process.stdout);
  tolerateClosedPipe(process.stderr);
  if (process.env.MAILFERRY_DEBUG_MEMORY) traceMemory();
  const debug = process.argv.includes('--debug');
  const logger = new StderrLogger(debug ? 'debug' : process.argv.includes('--quiet') || process.argv.includes('-q') ? 'warn' : 'info');
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(exitStatus('interrupted'));
    logger.warn('interrupted: stopping now (Ctrl-C again stops at once; a rerun resumes)');
    // The stores drop their connections on this, so a command under way (a download of minutes)
    // ends at once; the journal is committed per batch, and an APPEND cut short is settled by the
    // next run, as after kill -9. Should anything still hold on, the run ends anyway, well inside
    // systemd's stop timeout, rather than being killed in the middle of a write.
    abort.abort();
    setTimeout(() => process.exit(exitStatus('interrupted')), INTERRUPT_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ctx: CliContext = {
    logger,
    out: (text) => process.stdout.write(text + '\n'),
    stdinIsTTY: !!process.stdin.isTTY,
    stderrIsTTY: !!process.stderr.isTTY,
    signal: abort.signal,
    exitStatus: 0,
    debug,
  };
  try {
    // Loaded after the signal handlers are in place: Ctrl-C during start-up is handled too.
    const { runCli } = await import('./cli/index.js');
    await runCli(process.argv.slice(2), ctx);
    return ctx.exitStatus;
  } catch (err) {
    const failure = failureOf(err, abort.signal.aborted);
    logger.error(failure.line);
    if (err instanceof MailferryError) {
      if (ctx.debug && err.cause) logger.debug(String((err.cause as Error).stack ?? err.cause));
    } else {
      logger.error(ctx.debug ? String((err as Error)?.stack) : 'run again with --debug for details, and please report it');
    }
    return exitStatus(failure.kind);
  }
}

/** How long an interrupted run may take to wind down before it is ended (systemd's default stop timeout is 90 s). */
const INTERRUPT_GRACE_MS = 5_000;

const status = await main();
process.exitCode = status;
// Whatever still holds the event loop (a half-closed socket) must not keep a finished run alive.
setTimeout(() => process.exit(status), 2000).unref();

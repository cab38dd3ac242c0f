import type { StderrLogger } from '../reporting/logger.js';
import type { JobLog } from './log-file.js';

/** What a command handler may use of the process; main.ts builds it, tests can too. */
export interface CliContext {
  logger: StderrLogger;
  out: (text: string) => void;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  signal: AbortSignal;
  /** Set by the handler: how the process should end. */
  exitStatus: number;
  /** Set by --debug: main prints stack traces. */
  debug: boolean;
  /** Set while a --log-file (or `run`'s dated log) is open: where events and the summary also go. */
  jobLog?: JobLog;
}

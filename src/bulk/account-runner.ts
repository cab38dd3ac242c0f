import type { ExitKind } from '../errors/exit-codes.js';
import type { BulkAccount } from './bulk-account.js';

/** How one attempt at one account ended. */
export interface AccountOutcome {
  exit: ExitKind;
  /** The status the single-account command would have exited with (docs/exit-codes.md). */
  exitCode: number;
  /** The failure's one line, as the single-account command prints it; absent on success. */
  line?: string;
  /** Whether trying again soon may succeed (retry-policy.ts). */
  transient: boolean;
  /** Messages and bytes copied by this attempt. */
  messages: number;
  bytes: number;
  durationMs: number;
}

export interface AttemptIo {
  /** Stops this attempt (its run checkpoints and ends, as after Ctrl-C). */
  signal: AbortSignal;
  /** Messages settled so far by this attempt and their bytes (live, for progress). */
  progress(messages: number, bytes: number): void;
}

/** Runs one account, once: as the single `migrate`/`backup` command would, never throwing. */
export interface AccountRunner {
  run(account: BulkAccount, io: AttemptIo): Promise<AccountOutcome>;
}

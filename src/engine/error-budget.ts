import { ErrorsMaxError } from '../errors/errors.js';
import type { MessageFailure } from './report.js';

/**
 * `--errors-max N`: the failed messages all folders of a run may have together. Once N have
 * failed, every worker stops at its next batch: a destination refusing message after message
 * (a broken filter, a policy) is better looked at than fought through. The failures are journaled
 * before the run stops, so a rerun retries them.
 */
export class ErrorBudget {
  private failed = 0;
  private last?: { folder: string; failure: MessageFailure };

  constructor(readonly max: number) {}

  /** Counts a batch's failures (already journaled); throws once the budget is spent. */
  add(folder: string, failures: MessageFailure[]): void {
    this.failed += failures.length;
    const failure = failures[failures.length - 1];
    if (failure) this.last = { folder, failure };
    this.check();
  }

  /** Throws when the budget is spent (by this worker or another). */
  check(): void {
    if (this.failed < this.max) return;
    const last = this.last ? `, the last ${this.last.folder} UID ${this.last.failure.uid}: ${this.last.failure.reason}: ${this.last.failure.message.replace(/\.$/, '')}` : '';
    throw new ErrorsMaxError(`--errors-max ${this.max}: ${this.failed} messages failed${last}; stopped, a rerun retries them and resumes`);
  }
}

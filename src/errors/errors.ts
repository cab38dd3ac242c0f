import { exitStatus, type ExitKind } from './exit-codes.js';

/**
 * Every error mailferry expects to happen carries the exit kind it maps to. Anything else that
 * reaches main.ts is a bug and exits as `internal`.
 */
export class MailferryError extends Error {
  constructor(
    message: string,
    readonly kind: ExitKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The status the command exits with for this error (docs/exit-codes.md). */
  get exitCode(): number {
    return exitStatus(this.kind);
  }
}

/** Bad option, URL, folder pattern, config file or password source. */
export class UsageError extends MailferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'usage', options);
  }
}

export class AuthError extends MailferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'auth', options);
  }
}

/** Could not reach the server, TLS failed, or the connection broke for good. */
export class ConnectionError extends MailferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'connection', options);
  }
}

/** A connection that trying again cannot make (a certificate refused, an unknown host): never retried. */
export class PermanentConnectionError extends ConnectionError {}

/**
 * The server asks to slow down (Gmail `[THROTTLED]`, Microsoft 365 "Request is throttled.
 * Suggested Backoff Time: N milliseconds"). Never fatal: the run pauses and resumes.
 */
export class ThrottleError extends ConnectionError {
  constructor(
    message: string,
    /** How long the server suggested to wait, or a default. */
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The destination refuses every further write (quota): stop that side, leave the rest pending. */
export class QuotaError extends MailferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'quota', options);
  }
}

/** A provider's daily transfer cap is (nearly) used up: stop cleanly, resume tomorrow. */
export class DailyLimitError extends MailferryError {
  constructor(message: string) {
    super(message, 'dailyLimit');
  }
}

/**
 * A local file or directory mailferry needs cannot be used as it is: a read-only file system, a
 * checkpoint that is not (or no longer) a database, a damaged manifest, archive or mbox. Not a
 * bug: the message says what to do about it. (A full disk is a QuotaError: a rerun resumes.)
 */
export class LocalStorageError extends MailferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'localStorage', options);
  }
}

/** `--errors-max N` messages have failed: stop, leaving every failed message to be retried by a rerun. */
export class ErrorsMaxError extends MailferryError {
  constructor(message: string) {
    super(message, 'errorsMax');
  }
}

/** The run was stopped by a signal; the checkpoint holds what was done. */
export class InterruptedError extends MailferryError {
  constructor(message = 'interrupted; rerun the same command to resume') {
    super(message, 'interrupted');
  }
}

/** The backup itself is complete, but its archive could not be written or did not read back whole. */
export class ArchiveError extends MailferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'partial', options);
  }
}

/** A folder could not be created or opened on one side; its messages are reported, the rest goes on. */
export class FolderError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'FolderError';
  }
}

/**
 * A message could not be streamed (`FolderHandle.fetchStream`): gone, refused, or of another
 * size than listed. Thrown before its first chunk, it is read the usual way instead; later, the
 * streamed APPEND it fed is abandoned with its connection, and the folder's retry reads it so.
 */
export class StreamUnavailableError extends ConnectionError {}

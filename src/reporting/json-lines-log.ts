import { closeSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EngineEvent } from '../engine/events.js';
import { UsageError } from '../errors/errors.js';
import { fileFailure } from '../stores/local/local-errors.js';
import type { LogLevel } from './logger.js';

/**
 * A log for unattended runs: one JSON object per line, appended, each with its `time` (ISO 8601)
 * and either a `level` and `message` (a diagnostic line, as the terminal shows it) or an `event`
 * and its fields (an engine event, or the run's `summary`). Every string passes through the
 * redactor, so no secret reaches the file.
 */
export interface JsonLinesLog {
  /** One diagnostic line. */
  line(level: LogLevel, message: string): void;
  /** One engine event, named by its type; a folder's report is given as the event's fields. */
  event(event: EngineEvent): void;
  /** Any other record under an event name (the run's `summary`, with its `exitCode`). */
  record(event: string, fields: object): void;
  /** Closes the file; returns the write error that ended the log early (a full disk), if one did. */
  close(): Error | undefined;
}

/**
 * Opens (creates 0600, or appends to) the log at `file`. Each line is written at once, in one
 * write, so a line is whole even after kill -9 and two runs may append to the same file.
 * A place that cannot be written is refused here, before the run starts.
 */
export function openJsonLinesLog(file: string, redact: (text: string) => string = (t) => t): JsonLinesLog {
  let fd: number;
  try {
    fd = openSync(file, 'a', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`cannot write the log ${file}: there is no directory ${dirname(file)}`, { cause: err });
    if (code === 'EISDIR') throw new UsageError(`cannot write the log ${file}: it is a directory`, { cause: err });
    throw fileFailure(err, `cannot write the log ${file}`);
  }
  // A log that cannot be written must not stop the run it logs: it ends, and close() says why.
  let failure: Error | undefined;
  const write = (fields: object): void => {
    if (failure) return;
    try {
      writeSync(fd, JSON.stringify(redacted({ time: new Date().toISOString(), ...fields }, redact)) + '\n');
    } catch (err) {
      failure = fileFailure(err, `writing the log ${file}`);
    }
  };
  return {
    line: (level, message) => write({ level, message }),
    event: (e) => {
      const { type, ...fields } = e;
      write({ event: type, ...(e.type === 'folder-done' ? e.report : fields) });
    },
    record: (event, fields) => write({ event, ...fields }),
    close: () => {
      closeSync(fd);
      return failure;
    },
  };
}

/** `value` with `redact` applied to every string in it, keys included. */
function redacted(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redacted(v, redact));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redacted(v, redact)]));
  return value;
}

import { ConnectionError, InterruptedError, MailferryError } from './errors.js';
import type { ExitKind } from './exit-codes.js';

/** How a run that threw ends: its exit kind and the one line that says why. */
export interface Failure {
  kind: ExitKind;
  line: string;
}

/**
 * A typed error says its own kind and message; anything else is a bug (`internal`). After an
 * interrupt, which drops every connection, a broken connection is the interrupt's doing.
 */
export function failureOf(err: unknown, interrupted = false): Failure {
  if (interrupted && err instanceof ConnectionError) err = new InterruptedError();
  if (err instanceof MailferryError) return { kind: err.kind, line: err.message };
  return { kind: 'internal', line: `internal error: ${(err as Error)?.message ?? String(err)}` };
}

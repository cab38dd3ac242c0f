import { ConnectionError, InterruptedError, PermanentConnectionError, ThrottleError } from '../errors/errors.js';
import type { EmitEvent } from '../engine/events.js';

export interface ReconnectPolicy {
  /** Tries in all; the last failure is thrown. */
  attempts: number;
  /** First back-off; doubled after each failure. */
  delayMs: number;
  emit: EmitEvent;
  signal?: AbortSignal;
}

/**
 * Runs `fn` (connecting, listing) again after a broken or refused connection, with exponential
 * back-off, so a server restarting or a link blinking at the start of a nightly job does not fail
 * it. What it does is read-only, so trying again is always safe. Returns the result and how many
 * times it reconnected.
 */
export async function reconnecting<T>(doing: string, fn: () => Promise<T>, policy: ReconnectPolicy): Promise<{ value: T; reconnects: number }> {
  for (let failures = 0; ; ) {
    if (policy.signal?.aborted) throw new InterruptedError();
    try {
      return { value: await fn(), reconnects: failures };
    } catch (err) {
      if (!(err instanceof ConnectionError) || err instanceof PermanentConnectionError) throw err;
      const throttled = err instanceof ThrottleError;
      if (++failures >= policy.attempts && !throttled) throw err;
      const delay = throttled ? err.retryAfterMs : Math.min(policy.delayMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
      policy.emit({ type: 'notice', message: `${doing}: ${err.message}; retry ${failures} of ${policy.attempts - 1} in ${(delay / 1000).toFixed(1)} s` });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

const MAX_BACKOFF_MS = 60_000;

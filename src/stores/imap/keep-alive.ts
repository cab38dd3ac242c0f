import type { ImapFlow } from 'imapflow';

/** The parts of imapflow's command queue that tell whether a command is under way (not in its typings). */
interface CommandQueue {
  currentRequest?: unknown;
  requestQueue?: unknown[];
}

/**
 * Keeps a connection that has nothing to do from being taken for dead. imapflow's `socketTimeout`
 * counts silence between bytes, and on a connection with no command under way it does not probe:
 * it drops the connection. A destination connection waits, silent, for as long as the source takes
 * to download a batch (minutes for a big message on a slow link), so without this it was dropped
 * under every such batch and the folder started over, again and again. A NOOP every half timeout
 * while nothing is under way keeps the silence shorter than the timeout; a NOOP the server does not
 * answer is a stuck command, so a dead link is still found within 1.5 timeouts.
 */
export function keepAlive(client: ImapFlow, socketTimeoutMs: number): void {
  const timer = setInterval(() => {
    if (busy(client) || !client.usable) return;
    // A failed NOOP has broken the session; the next command reports it.
    client.noop().catch(() => undefined);
  }, noopInterval(socketTimeoutMs));
  timer.unref();
  client.once('close', () => clearInterval(timer));
}

/** Half the timeout, at most every 5 minutes (well inside servers' 30-minute autologout and common NAT idle limits). */
function noopInterval(socketTimeoutMs: number): number {
  return Math.min(socketTimeoutMs / 2, 5 * 60_000);
}

function busy(client: ImapFlow): boolean {
  const q = client as unknown as CommandQueue;
  return !!q.currentRequest || (q.requestQueue?.length ?? 0) > 0;
}

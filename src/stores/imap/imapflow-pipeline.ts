import { createRequire } from 'node:module';

/**
 * Pipelining for imapflow, which keeps one command on the wire per connection: a command queued
 * with the exec option `pipelined: true` behind commands already sent is written at once, not
 * when the one before it is answered (RFC 9051 §5.5). The server answers in order, so the
 * responses still come as imapflow expects them: those of the command on the wire, its tagged
 * answer, then the next command's. When the pipelined command becomes imapflow's current one it
 * is marked sent instead of being written again.
 *
 * Only a command without literals (or whose literals are all LITERAL+ ones) goes early, and only
 * behind a command that has nothing left to send (no literal waiting for a "+": an APPEND with
 * LITERAL+ literals is one) and does not change the stream or the session's state beyond a mailbox
 * (LOGIN, AUTHENTICATE, STARTTLS, COMPRESS, IDLE, LOGOUT, ENABLE, and APPEND with "+"s); ID
 * changes nothing, so a login may follow it at once (imapflow-login.ts). What a
 * pipelined command means must not depend on how the one before it is answered in ways the caller
 * did not foresee: after a failed SELECT no mailbox is selected, and a FETCH behind it is refused.
 *
 * Wraps `trySend` and `send` of imapflow's CommonJS client (the one imapflow-client.ts loads); if a
 * future imapflow moves them, nothing is wrapped and every command waits for the one before it
 * (test/unit/imapflow-internals.test.ts checks that the wraps apply).
 */
const require = createRequire(import.meta.url);
const handler = require('imapflow/lib/handler/imap-handler.js') as { compiler?: Compiler };
const { ImapFlow } = require('imapflow') as { ImapFlow: { prototype: object } };

type Compiler = (data: Request, options?: { asArray?: boolean; isLogging?: boolean; literalMinus?: boolean }) => unknown;

interface Request {
  tag: string;
  command: string;
  attributes?: unknown[];
  options?: { pipelined?: boolean; literalPlus?: boolean; onSend?: () => void };
  sent?: boolean;
  /** Written by this module ahead of its turn. */
  early?: boolean;
}

interface Client {
  currentRequest: Request | false;
  requestQueue: Request[];
  commandParts: unknown[];
  capabilities: Map<string, unknown>;
  log: { debug(entry: object): void; warn(entry: object): void };
  id: string;
  isLogLevelEnabled?(level: string): boolean;
  write(chunk: unknown): unknown;
  trySend(): Promise<void>;
  send(data: Request): Promise<void>;
}

/** Commands nothing may be pipelined behind: they change the stream or the session, or send literals. */
const BARRIERS = new Set(['LOGIN', 'AUTHENTICATE', 'STARTTLS', 'COMPRESS', 'IDLE', 'LOGOUT', 'APPEND', 'ENABLE']);

/** An APPEND whose literals all went without a "+" (LITERAL+, imapflow-client.ts) has nothing left to send once sent. */
function isBarrier(r: Request): boolean {
  const command = r.command.toUpperCase();
  return BARRIERS.has(command) && !(command === 'APPEND' && r.options?.literalPlus === true);
}

const proto = ImapFlow.prototype as Client;
const originalTrySend = proto.trySend;
const originalSend = proto.send;

/** Whether the wraps applied (for test/unit/imapflow-internals.test.ts). */
export const pipeliningApplied = typeof originalTrySend === 'function' && typeof originalSend === 'function' && typeof handler.compiler === 'function';

if (pipeliningApplied) {
  proto.trySend = function (this: Client): Promise<void> {
    const dispatched = originalTrySend.call(this);
    try {
      sendEarly(this);
    } catch {
      // A connection gone: what was not written goes in its turn, where imapflow reports it.
    }
    return dispatched;
  };

  proto.send = function (this: Client, data: Request): Promise<void> {
    const current = this.currentRequest;
    if (!current || !current.early || current.tag !== data.tag) return originalSend.call(this, data);
    // Already on the wire: what imapflow's send() does besides writing it.
    this.commandParts = [];
    current.sent = true;
    try {
      current.options?.onSend?.();
    } catch (err) {
      this.log.warn({ err, cid: this.id });
    }
    return Promise.resolve();
  };
}

/** Writes the pipelined commands queued right behind what is on the wire, in order. */
function sendEarly(client: Client): void {
  const current = client.currentRequest;
  if (!current || !current.sent || client.commandParts.length > 0 || isBarrier(current)) return;
  for (const request of client.requestQueue) {
    if (request.early) continue;
    if (!request.options?.pipelined) return;
    const compiled = handler.compiler!(request, { asArray: true, literalMinus: client.capabilities.has('LITERAL-') || client.capabilities.has('LITERAL+') }) as unknown[];
    // A literal would wait for the server's "+": such a command goes in its turn.
    if (compiled.length !== 1) return;
    if (client.isLogLevelEnabled?.('debug')) client.log.debug({ src: 'c', msg: String(handler.compiler!(request, { isLogging: true })), cid: client.id, comment: 'pipelined' });
    // imapflow ends a write with CRLF only when no part of the command is left to send.
    const parts = client.commandParts;
    client.commandParts = [];
    try {
      client.write(compiled[0]);
    } finally {
      client.commandParts = parts;
    }
    request.early = true;
  }
}

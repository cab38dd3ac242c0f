import { createRequire } from 'node:module';
import type { ImapFlow as ImapFlowClass } from 'imapflow';
// Fewer round trips while logging in (ID once, SASL-IR), for every client made here.
import './imapflow-login.js';
// Commands that may go on the wire behind one not yet answered (a small folder's FETCH behind its EXAMINE).
import './imapflow-pipeline.js';

/**
 * imapflow, with non-synchronizing literals for our APPENDs, and message bytes written without
 * copies.
 *
 * imapflow 2.x compiles every command with `literalMinus` only, so on a LITERAL+ server (RFC 7888)
 * each literal over 4 KB still waits for the server's "+" continuation: one round trip per
 * message, which at 40 ms RTT dominates a migration. Its compiler already supports `literalPlus`;
 * nothing passes it. We load imapflow's CommonJS build, whose command sender looks the compiler up
 * on the handler module at each call, and wrap that lookup: a command whose exec options say
 * `literalPlus: true` (multi-append.ts sets it only when the server advertises LITERAL+) is
 * compiled with it, into the pieces between its literals and the literals themselves (`Frames`),
 * where imapflow would concatenate the whole command, a copy of every message in it.
 *
 * Every write then goes out in order through a paced queue: a large buffer in slices of
 * `SLICE_BYTES`, the next only once the socket has taken the last. Handed to a TLS socket at once,
 * a 20 MB message is encrypted at once, and its ciphertext waits in memory beside it.
 *
 * If a future imapflow moves the compiler or `write`, the wraps find nothing and APPEND keeps the
 * slower synchronizing literals and copies; test/unit/imapflow-internals.test.ts checks that they
 * apply (imapflow is pinned to the exact version in package.json for this).
 */
const require = createRequire(import.meta.url);
const handler = require('imapflow/lib/handler/imap-handler.js') as { compiler?: Compiler };
const { ImapFlow: ImapFlowImpl } = require('imapflow') as { ImapFlow: typeof ImapFlowClass };

interface CommandData {
  tag?: string;
  command?: string;
  attributes?: unknown[];
  options?: { literalPlus?: boolean };
}
type Compiler = (data: CommandData, options?: { asArray?: boolean; isLogging?: boolean; literalPlus?: boolean }) => unknown;

/** A command as the buffers to write one after another (the whole command; imapflow adds the final CRLF). */
export class Frames {
  constructor(readonly parts: Array<Buffer | LiteralStream>) {}
}

/**
 * The data of a literal that is still arriving (a LITERAL node's value, with LITERAL+ only): its
 * size is sent first, its chunks as `body` yields them. `written` settles once all of it is on
 * its way, or rejects with why it never will be: then the connection is closed, so the command
 * is never complete and the server stores nothing of it.
 */
export class LiteralStream {
  readonly written: Promise<void>;
  /** Handed to the connection's writer: `written` will settle. */
  queued = false;
  private settle!: (error?: unknown) => void;

  constructor(
    readonly size: number,
    readonly body: AsyncIterable<Buffer>,
  ) {
    this.written = new Promise((resolve, reject) => (this.settle = (error) => (error === undefined ? resolve() : reject(error))));
    // Observed by whoever sent the command; this only keeps an abandoned one from crashing the process.
    this.written.catch(() => undefined);
  }

  /** For imapflow's log line of the command, which names a literal by its length. */
  get length(): number {
    return this.size;
  }

  done(error?: unknown): void {
    this.settle(error);
  }
}

const original = handler.compiler;
if (typeof original === 'function') {
  handler.compiler = (data, options) => {
    const key = options === undefined ? responseKeyOf(data) : undefined;
    if (key !== undefined) return compiledKey(original, data, key);
    if (!data?.options?.literalPlus) return original(data, options);
    if (options?.asArray && !options.isLogging) return [new Frames(framesOf(original, data))];
    return original(data, { ...options, literalPlus: true });
  };
}

/**
 * imapflow names each item of a FETCH response (UID, FLAGS, BODY[]) by compiling the parsed key
 * back into text: one compiler run per item, five per message, about a tenth of a migration's
 * client CPU. A run sees only a handful of distinct keys, so each is compiled once (bounded, as a
 * server chooses them).
 */
const responseKeys = new Map<string, unknown>();
const RESPONSE_KEYS_MAX = 64;

/** The cache key of a lone plain item name (`UID`, `BODY[]`); undefined for anything else. */
function responseKeyOf(data: CommandData | undefined): string | undefined {
  if (!data || data.tag !== undefined || data.command !== undefined || data.attributes?.length !== 1) return undefined;
  const node = data.attributes[0] as { type?: unknown; value?: unknown; section?: unknown[]; partial?: unknown } | null;
  if (node?.type !== 'ATOM' || typeof node.value !== 'string' || node.partial !== undefined) return undefined;
  if (node.section === undefined) return node.value;
  return Array.isArray(node.section) && node.section.length === 0 ? `${node.value}[]` : undefined;
}

function compiledKey(compile: Compiler, data: CommandData, key: string): unknown {
  const known = responseKeys.get(key);
  if (known !== undefined) return known;
  const compiled = compile(data);
  if (responseKeys.size < RESPONSE_KEYS_MAX) responseKeys.set(key, compiled);
  return compiled;
}

interface LiteralNode {
  type: 'LITERAL';
  value?: Buffer | string | LiteralStream;
  isLiteral8?: boolean;
}
const isLiteral = (node: unknown): node is LiteralNode => (node as { type?: unknown } | null)?.type === 'LITERAL';

/**
 * The command as imapflow's compiler writes it with LITERAL+, but each top-level literal's data as
 * a part of its own: the text between literals is compiled by imapflow (quoting, validation), the
 * literal markers here, as the compiler writes them (a space before and after each literal).
 */
function framesOf(compile: Compiler, data: CommandData): Array<Buffer | LiteralStream> {
  const text = (attributes: unknown[], head: boolean): Buffer =>
    compile(head ? { tag: data.tag, command: data.command, attributes } : { attributes }, { literalPlus: true }) as Buffer;
  const parts: Array<Buffer | LiteralStream> = [];
  let streamed = false;
  let segment: unknown[] = [];
  let head = true;
  for (const node of data.attributes ?? []) {
    if (!isLiteral(node)) {
      segment.push(node);
      continue;
    }
    const value = typeof node.value === 'string' ? Buffer.from(node.value) : (node.value ?? Buffer.alloc(0));
    const before = text(segment, head);
    parts.push(Buffer.concat([head ? before : Buffer.concat([SPACE, before]), Buffer.from(` ${node.isLiteral8 ? '~' : ''}{${value.length}+}\r\n`)]));
    if (value.length > 0) parts.push(value);
    if (value instanceof LiteralStream) streamed = true;
    segment = [];
    head = false;
  }
  const tail = text(segment, head);
  // After a streamed literal, a part of its own carries the command's CRLF (imapflow adds it to the last part).
  if (head || tail.length > 0 || streamed) parts.push(head || tail.length === 0 ? tail : Buffer.concat([SPACE, tail]));
  return parts;
}

const SPACE = Buffer.from(' ');

/** Large buffers go to the socket in slices of this size, each once the socket has taken the last. */
const SLICE_BYTES = 256 * 1024;

interface Writable {
  destroyed?: boolean;
  write(chunk: Buffer): boolean;
  once(event: string, listener: () => void): unknown;
  removeListener(event: string, listener: () => void): unknown;
}
interface Internals {
  socket?: unknown;
  writeSocket?: Writable | false | null;
  commandParts: unknown[];
  write(chunk: unknown): unknown;
  close(): unknown;
}

/** What imapflow writes on one connection, in order, paced by the socket. */
class Outbox {
  private readonly queue: Array<Buffer | LiteralStream> = [];
  private waiting = false;

  constructor(private readonly client: Internals) {}

  push(frames: Array<Buffer | LiteralStream>): void {
    for (const f of frames) {
      if (!(f instanceof LiteralStream)) this.queue.push(...slices(f));
      else {
        f.queued = true;
        this.queue.push(f);
      }
    }
    this.pump();
  }

  private pump(): void {
    while (!this.waiting && this.queue.length > 0) {
      const socket = this.client.writeSocket;
      // A connection gone is imapflow's to report; what was still to go goes nowhere.
      if (!socket || socket.destroyed) {
        this.drop(new Error('the connection closed'));
        return;
      }
      const next = this.queue.shift()!;
      if (next instanceof LiteralStream) {
        this.waiting = true;
        void this.stream(next, socket).then(() => {
          this.waiting = false;
          this.pump();
        });
        return;
      }
      if (!socket.write(next) && this.queue.length > 0) this.awaitDrain(socket);
    }
  }

  /**
   * Writes a streamed literal's chunks as they come, each once the socket has taken the last. A
   * body that fails, or yields another size than announced, closes the connection mid-literal.
   */
  private async stream(literal: LiteralStream, socket: Writable): Promise<void> {
    let written = 0;
    try {
      for await (const chunk of literal.body) {
        written += chunk.length;
        if (written > literal.size) throw new Error(`a streamed literal of ${literal.size} bytes was given more`);
        for (const slice of slices(chunk)) {
          if (socket.destroyed) throw new Error('the connection closed while a message was being sent');
          if (!socket.write(slice)) await drained(socket);
        }
      }
      if (written !== literal.size) throw new Error(`a streamed literal of ${literal.size} bytes was given ${written}`);
      literal.done();
    } catch (err) {
      literal.done(err);
      this.drop(err);
      this.client.close();
    }
  }

  /** Nothing queued will be written: streamed literals among it are told so. */
  private drop(reason: unknown): void {
    for (const item of this.queue.splice(0)) if (item instanceof LiteralStream) item.done(reason);
  }

  private awaitDrain(socket: Writable): void {
    this.waiting = true;
    onDrain(socket, () => {
      this.waiting = false;
      this.pump();
    });
  }
}

/** A buffer as the slices the outbox writes. */
function slices(f: Buffer): Buffer[] {
  if (f.length <= SLICE_BYTES) return [f];
  const out: Buffer[] = [];
  for (let at = 0; at < f.length; at += SLICE_BYTES) out.push(f.subarray(at, at + SLICE_BYTES));
  return out;
}

/** Calls `go` once the socket can take more (or is gone), as it says so. */
function onDrain(socket: Writable, go: () => void): void {
  const once = (): void => {
    for (const event of ['drain', 'close', 'error']) socket.removeListener(event, once);
    go();
  };
  for (const event of ['drain', 'close', 'error']) socket.once(event, once);
}

/** Resolves once the socket can take more (or is gone). */
function drained(socket: Writable): Promise<void> {
  return new Promise((resolve) => onDrain(socket, resolve));
}

const outboxes = new WeakMap<object, Outbox>();
const originalWrite = (ImapFlowImpl.prototype as unknown as Internals).write;
if (typeof originalWrite === 'function') {
  (ImapFlowImpl.prototype as unknown as Internals).write = function (this: Internals, chunk: unknown): unknown {
    const socket = this.writeSocket;
    // imapflow's own checks and errors for a connection that is gone.
    if (!socket || socket.destroyed) return originalWrite.call(this, chunk instanceof Frames ? Buffer.alloc(0) : chunk);
    // imapflow frames the chunk (CRLF, logging, counters) into what it would write to the socket.
    const frames: Array<Buffer | LiteralStream> = [];
    this.writeSocket = { destroyed: false, write: (b: Buffer) => frames.push(b) > 0, once: () => undefined, removeListener: () => undefined };
    try {
      if (!(chunk instanceof Frames)) originalWrite.call(this, chunk);
      else {
        const rest = this.commandParts;
        // Only the last part ends the command with CRLF (imapflow adds it when no part is left).
        chunk.parts.forEach((part, i) => {
          if (part instanceof LiteralStream) {
            frames.push(part);
            return;
          }
          this.commandParts = i < chunk.parts.length - 1 ? [undefined] : rest;
          originalWrite.call(this, part);
        });
        this.commandParts = rest;
      }
    } finally {
      this.writeSocket = socket;
    }
    let outbox = outboxes.get(this);
    if (!outbox) outboxes.set(this, (outbox = new Outbox(this)));
    outbox.push(frames);
    return undefined;
  };
}

export const ImapFlow: typeof ImapFlowClass = ImapFlowImpl;
export type ImapFlow = ImapFlowClass;

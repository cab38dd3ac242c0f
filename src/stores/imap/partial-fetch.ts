import { createRequire } from 'node:module';
import type { FetchMessageObject, ImapFlow, MailboxObject } from 'imapflow';
import { StreamUnavailableError } from '../../errors/errors.js';
import { pipeliningApplied } from './imapflow-pipeline.js';

/** How `partialBody` reads a message. */
export interface PartialFetchOptions {
  /** Bytes asked for by each FETCH. */
  pieceBytes: number;
  /** FETCHes on the wire at once. */
  ahead: number;
  /** Says that a message was of another size than listed (the server's sizes are not to be trusted). */
  onSizeMismatch(): void;
}

const require = createRequire(import.meta.url);
const tools = require('imapflow/lib/tools.js') as {
  formatMessageResponse(untagged: unknown, mailbox: MailboxObject, idHashAlgorithm: unknown, connection: unknown): Promise<FetchMessageObject>;
};

interface Internals {
  exec(command: string, attributes: unknown[], options?: object): Promise<{ next(): void }>;
  mailbox: MailboxObject | false;
  idHashAlgorithm: unknown;
}

/** Whether pieces can be pipelined here; without it, one round trip each would make streaming slower than not. */
export const partialFetchPipelined = pipeliningApplied;

/**
 * A message's bytes in pieces, `UID FETCH n (BODY.PEEK[]<offset.length>)` (RFC 9051 §6.4.5),
 * several pieces on the wire at once (pipelined), each given as soon as it and those before it
 * are in. So a message too big to hold is passed on while it is still arriving, and what is held
 * is the window, not the message.
 *
 * A message is of its listed size or it is not streamed: the last piece asks for one byte more
 * than the size leaves, and a piece shorter than asked before the end, or a last one with that
 * extra byte, means another size. That, a message gone, or a FETCH refused is a
 * `StreamUnavailableError`, thrown before the piece that showed it is given, so the last chunk
 * given always ends a message of exactly `size` bytes.
 *
 * While pieces are on the wire nothing else may go on the connection: a server that runs
 * pipelined FETCHes side by side (Dovecot) mixes their answers, and imapflow hands each to
 * whichever command it holds current. The pieces' own answers are sorted by their origin.
 */
export async function* partialBody(client: ImapFlow, uid: number, size: number, options: PartialFetchOptions): AsyncGenerator<Buffer> {
  if (size <= 0) throw new StreamUnavailableError(`UID ${uid} is listed as empty`);
  const inner = client as unknown as Internals;
  const arrivals = new Arrivals();
  const collect = collector(inner, uid, arrivals);
  const pieces: Array<{ offset: number; length: number; bytes: Promise<Buffer | undefined> }> = [];
  let next = 0;
  const fill = (): void => {
    while (pieces.length < options.ahead && next < size) {
      const offset = next;
      const length = Math.min(options.pieceBytes, size - offset);
      // The last piece asks for one byte more: an answer with it shows a message longer than listed.
      const asked = offset + length >= size ? length + 1 : length;
      const answered = fetchPiece(inner, uid, offset, asked, collect);
      const bytes = arrivals.at(offset, answered);
      // Observed when awaited; a piece left behind by a failure must not crash the process.
      for (const p of [answered, bytes]) p.catch(() => undefined);
      pieces.push({ offset, length, bytes });
      next += length;
    }
  };
  try {
    fill();
    while (pieces.length > 0) {
      const piece = pieces[0]!;
      const bytes = await piece.bytes;
      pieces.shift();
      fill();
      if (bytes === undefined) throw new StreamUnavailableError(`UID ${uid} was not given at offset ${piece.offset}`);
      if (bytes.length !== piece.length) {
        options.onSizeMismatch();
        throw new StreamUnavailableError(`UID ${uid} is not of its listed size ${size} (${bytes.length > piece.length ? 'more bytes' : `${piece.offset + bytes.length} bytes`})`);
      }
      yield bytes;
    }
  } finally {
    // Until every piece's FETCH is answered, the connection is not used again.
    await arrivals.quiet();
  }
}

/**
 * The pieces' bytes by origin, each given as soon as it is in: a server that runs the FETCHes
 * side by side (Dovecot) sends every piece's bytes before any of their completions, so waiting
 * for a piece's tagged answer would wait for the whole window.
 */
class Arrivals {
  private readonly waiting = new Map<number, (bytes: Buffer | undefined) => void>();
  private readonly early = new Map<number, Buffer>();
  private readonly answers = new Set<Promise<void>>();

  /** The piece at `offset`: as soon as it arrives, or nothing once its FETCH is answered without it. */
  at(offset: number, answered: Promise<void>): Promise<Buffer | undefined> {
    this.answers.add(answered);
    return new Promise((resolve, reject) => {
      const kept = this.early.get(offset);
      if (kept) {
        this.early.delete(offset);
        resolve(kept);
        return;
      }
      this.waiting.set(offset, resolve);
      answered.then(
        () => {
          if (this.waiting.get(offset) === resolve) this.waiting.delete(offset);
          resolve(undefined);
        },
        (err: unknown) => {
          this.waiting.delete(offset);
          reject(err);
        },
      );
    });
  }

  arrived(offset: number, bytes: Buffer): void {
    const resolve = this.waiting.get(offset);
    if (!resolve) {
      this.early.set(offset, bytes);
      return;
    }
    this.waiting.delete(offset);
    resolve(bytes);
  }

  /** Resolves once every FETCH asked is answered. */
  async quiet(): Promise<void> {
    await Promise.allSettled(this.answers);
  }
}

/**
 * The handler of every piece's FETCH answers: with the FETCHes run side by side, a piece's answer
 * can come while another piece's command is the one imapflow takes it for. Each is known by its
 * origin (`BODY[]<origin>`), which every answer names.
 */
function collector(client: Internals, uid: number, arrivals: Arrivals): (untagged: unknown) => Promise<void> {
  return async (untagged) => {
    if (!client.mailbox) return;
    const m = (await tools.formatMessageResponse(untagged, client.mailbox, client.idHashAlgorithm, client)) as FetchMessageObject & { partialOrigins?: Map<string, number> };
    // Only an answer with the section counts: another session's flag change comes without it.
    const origin = m.partialOrigins?.get('');
    if (m.uid !== uid || m.source === undefined || origin === undefined) return;
    // An offset past the end is answered with an empty string (RFC 9051 §6.4.5), or NIL by some.
    arrivals.arrived(origin, m.source || Buffer.alloc(0));
  };
}

/** One piece of a message, pipelined behind whatever the connection has on the wire; its answer goes to `collect`. */
async function fetchPiece(client: Internals, uid: number, offset: number, length: number, collect: (untagged: unknown) => Promise<void>): Promise<void> {
  const section = { type: 'ATOM', value: 'BODY.PEEK', section: [], partial: [offset, length] };
  const answer = await client.exec('UID FETCH', [{ type: 'SEQUENCE', value: String(uid) }, [{ type: 'ATOM', value: 'UID' }, section]], {
    pipelined: true,
    untagged: { FETCH: collect },
  });
  answer.next();
}

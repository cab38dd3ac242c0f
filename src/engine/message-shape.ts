import { isAscii } from 'node:buffer';
import { headerOf } from './server-alteration.js';
import type { MessageKind } from './stored-copy-trust.js';

/**
 * What the look after an APPEND needs to know of a message sent (stored-copy.ts), read as its
 * bytes go by, in one piece or in many (a streamed message is never held whole): its size,
 * whether it has a NUL, its header, and its kind (stored-copy-trust.ts `kindOf`).
 */
export class MessageShape {
  size = 0;
  nul = false;
  /** A CR or LF that is not part of a CRLF. */
  private bareLineBreak = false;
  private last = -1;
  private secondLast = -1;
  /** The bytes read while the header's end is not yet among them. */
  private head: Buffer | undefined = Buffer.alloc(0);
  private headerValue?: Buffer;

  update(chunk: Buffer): this {
    if (chunk.length === 0) return this;
    if (!this.nul && chunk.includes(0)) this.nul = true;
    if (!this.bareLineBreak) this.bareLineBreak = hasBareLineBreak(chunk, this.last);
    this.secondLast = chunk.length >= 2 ? chunk[chunk.length - 2]! : this.last;
    this.last = chunk[chunk.length - 1]!;
    this.size += chunk.length;
    this.readHeader(chunk);
    return this;
  }

  /** The header up to and including its blank line (`headerOf`); undefined where it is longer than is kept. */
  get header(): Buffer | undefined {
    // A message without a blank line is all header, as headerOf has it.
    return this.headerValue ?? this.head;
  }

  get kind(): MessageKind {
    if (this.size < 2 || this.secondLast !== 13 || this.last !== 10 || this.nul || this.bareLineBreak) return 'other';
    const header = this.header;
    if (header === undefined) return 'other';
    return isAscii(header) ? 'plain' : 'eight-bit-header';
  }

  private readHeader(chunk: Buffer): void {
    if (this.headerValue !== undefined || this.head === undefined) return;
    const head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    if (head.indexOf('\r\n\r\n') >= 0 || head.indexOf('\n\n') >= 0) {
      const header = headerOf(head);
      // A copy: a slice would keep the whole piece it came in alive.
      if (header.length <= HEADER_KEPT) this.headerValue = Buffer.from(header);
      this.head = undefined;
    } else this.head = head.length <= HEADER_KEPT ? (head === chunk ? Buffer.from(chunk) : head) : undefined;
  }
}

/** Longest header kept; a longer one (or a big message without a blank line) is of kind `other`, always looked at. */
const HEADER_KEPT = 1 << 20;

/** Whether `chunk`, which follows a byte `before` (-1: none), has a CR or LF outside a CRLF. */
function hasBareLineBreak(chunk: Buffer, before: number): boolean {
  if (before === 13 && chunk[0] !== 10) return true;
  // A CR last in the chunk is judged by the next chunk's first byte, or by the message's end.
  for (let i = chunk.indexOf(13); i >= 0 && i + 1 < chunk.length; i = chunk.indexOf(13, i + 2)) if (chunk[i + 1] !== 10) return true;
  for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) if ((i > 0 ? chunk[i - 1] : before) !== 13) return true;
  return false;
}

import { createReadStream } from 'node:fs';
import { FolderError } from '../../errors/errors.js';
import { fromLineDate } from './from-line.js';

/** One message of an mbox file as it is stored there, before anything is undone. */
export interface StoredMessage {
  /** Where its `From_` line starts. */
  offset: number;
  /** Bytes from the `From_` line through the blank line that ends the message. */
  length: number;
  /** The `From_` line, without its line ending. */
  fromLine: string;
  /** Everything after the `From_` line, up to the next one. */
  content: Buffer;
}

const LF = 0x0a;
const FROM_ = Buffer.from('From ');
const CHUNK = 1 << 20;

/**
 * The messages of an mbox file in order, read as a stream: memory holds one message and one
 * chunk of the file, whatever the file's size. A message starts at the first line and at every
 * line that is a `From_` line with a date (see from-line.ts); a file that does not start with
 * `From ` is not an mbox.
 */
export async function* splitMbox(file: string): AsyncGenerator<StoredMessage> {
  let current: { offset: number; fromLine: string; parts: Buffer[]; length: number } | undefined;
  const done: StoredMessage[] = [];
  const finish = (): void => {
    if (current) done.push({ offset: current.offset, length: current.length, fromLine: current.fromLine, content: Buffer.concat(current.parts) });
  };
  // Lines are handled synchronously, a chunk at a time; only whole messages go through the generator.
  const line = (bytes: Buffer, offset: number): void => {
    const startsFrom = bytes.length >= FROM_.length && bytes.compare(FROM_, 0, FROM_.length, 0, FROM_.length) === 0;
    if (offset === 0 && !startsFrom) throw new FolderError(`${file} is not an mbox file: it does not start with a "From " line`, 'not-mbox');
    const text = startsFrom ? bytes.toString('latin1').replace(/\r?\n$/, '') : '';
    if (startsFrom && (offset === 0 || fromLineDate(text) !== undefined)) {
      finish();
      current = { offset, fromLine: text, parts: [], length: bytes.length };
    } else {
      current!.parts.push(bytes);
      current!.length += bytes.length;
    }
  };

  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let pos = 0;
    for (let nl = buf.indexOf(LF); nl >= 0; nl = buf.indexOf(LF, pos)) {
      line(buf.subarray(pos, nl + 1), carryOffset + pos);
      pos = nl + 1;
    }
    carryOffset += pos;
    carry = buf.subarray(pos);
    yield* done.splice(0);
  }
  if (carry.length > 0) line(carry, carryOffset);
  finish();
  yield* done.splice(0);
}

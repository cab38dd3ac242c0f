import { createHash } from 'node:crypto';
import { MessageShape } from './message-shape.js';

/**
 * A streamed message's bytes on their way from the source's FETCH to the destination's APPEND,
 * hashed as they pass. The message's identity (its SHA-256) is known only once the last byte is
 * in, but its APPEND intent must be journaled before the destination can store it: `beforeLast`
 * is called, with the identity, before the last chunk is handed on. A destination stores nothing
 * of an APPEND whose literal is not complete, so a crash before that call leaves nothing to
 * find, and one after it leaves an intent a rerun settles by content.
 *
 * `first` is the message's first chunk, already read (the caller reads it before it starts the
 * APPEND, so a message that cannot be streamed is found before anything is sent).
 */
export async function* journaledBody(
  first: Buffer,
  rest: AsyncIterator<Buffer>,
  size: number,
  beforeLast: (sha256: string, shape: MessageShape) => void,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  const shape = new MessageShape();
  try {
    for (let chunk: IteratorResult<Buffer> = { done: false, value: first }; !chunk.done; chunk = await rest.next()) {
      hash.update(chunk.value);
      shape.update(chunk.value);
      // The store gives exactly `size` bytes; the last chunk ends them.
      if (shape.size === size) beforeLast(hash.digest('hex'), shape);
      yield chunk.value;
    }
  } finally {
    // Abandoned (the APPEND's connection gone): the source stops asking for more.
    await rest.return?.();
  }
}

import { createHash } from 'node:crypto';
import type { MessageShape } from './message-shape.js';

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
  beforeLast: (sha256: string) => void,
  /** Filled as the bytes pass, where the caller will look at what the destination stored. */
  shape?: MessageShape,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let passed = 0;
  try {
    for (let chunk: IteratorResult<Buffer> = { done: false, value: first }; !chunk.done; chunk = await rest.next()) {
      hash.update(chunk.value);
      shape?.update(chunk.value);
      passed += chunk.value.length;
      // The store gives exactly `size` bytes; the last chunk ends them.
      if (passed === size) beforeLast(hash.digest('hex'));
      yield chunk.value;
    }
  } finally {
    // Abandoned (the APPEND's connection gone): the source stops asking for more.
    await rest.return?.();
  }
}

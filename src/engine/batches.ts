import type { MessageMeta } from '../domain/types.js';

/**
 * Splits messages into batches bounded by count and by bytes (a big message gets its own), in
 * order; a message `alone` says so of gets a batch of its own too.
 */
export function* batches(messages: MessageMeta[], maxMessages: number, maxBytes: number, alone: (m: MessageMeta) => boolean = () => false): Generator<MessageMeta[]> {
  let current: MessageMeta[] = [];
  let bytes = 0;
  for (const m of messages) {
    const own = alone(m);
    if (current.length > 0 && (own || current.length >= maxMessages || bytes + m.size > maxBytes)) {
      yield current;
      current = [];
      bytes = 0;
    }
    if (own) {
      yield [m];
      continue;
    }
    current.push(m);
    bytes += m.size;
  }
  if (current.length > 0) yield current;
}

/**
 * Runs `load` one item ahead of the consumer, so the next FETCH is on the wire while the current
 * batch is being written: the source never waits for the destination. Memory holds at most two
 * loaded batches.
 */
export async function* prefetched<T, R>(items: Iterable<T>, load: (item: T) => Promise<R>): AsyncGenerator<R> {
  const start = (item: T): Promise<R> => {
    const p = load(item);
    // Observed when awaited; this only stops an unhandled-rejection crash if the consumer quits early.
    p.catch(() => undefined);
    return p;
  };
  const it = items[Symbol.iterator]();
  let next = it.next();
  let ahead = next.done ? undefined : start(next.value);
  while (ahead) {
    const value = await ahead;
    next = it.next();
    ahead = next.done ? undefined : start(next.value);
    yield value;
  }
}

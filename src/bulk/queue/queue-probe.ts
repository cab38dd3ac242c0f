import { Redis } from 'ioredis';
import { ConnectionError } from '../../errors/errors.js';
import { redisOptions, type QueueAddress } from './queue-address.js';

const PROBE_TIMEOUT_MS = 5_000;

/**
 * Connects once and says PING, failing fast with one line (exit 4) when Redis is down, refuses
 * the password or is not Redis: BullMQ itself would retry forever, which suits a running worker
 * but not a command that has not started yet.
 */
export async function probeQueue(address: QueueAddress): Promise<void> {
  const client = new Redis({
    ...redisOptions(address),
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The cause (refused, NOAUTH) comes as an event; what connect() rejects with is only "closed".
  let cause: Error | undefined;
  client.on('error', (err: Error) => {
    cause ??= err;
  });
  try {
    await client.connect();
    const reply = await client.ping();
    if (reply !== 'PONG') throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  } catch (err) {
    throw new ConnectionError(`queue ${address.label}: ${probeFailure(cause ?? err)}`, { cause: err });
  } finally {
    client.disconnect();
  }
}

function probeFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(e.message)) return 'the server refused the password (set MAILFERRY_QUEUE_PASSWORD)';
  if (e.code === 'ECONNREFUSED') return 'connection refused (is redis-server running there?)';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'host not found';
  if (e.code === 'ETIMEDOUT' || /timeout/i.test(e.message)) return `no answer within ${PROBE_TIMEOUT_MS / 1000} s`;
  return e.message.split('\n')[0] ?? 'failed';
}

import { UsageError } from '../../errors/errors.js';

/** Where the distributed queue lives: a Redis server, and the database on it. */
export interface QueueAddress {
  tls: boolean;
  host: string;
  port: number;
  db: number;
  username?: string;
  /** From the URL (warned about), or from $MAILFERRY_QUEUE_PASSWORD. */
  password?: string;
  /** redis://host:port/db as it may be printed: never a password. */
  label: string;
}

/**
 * Parses `redis://[[user]:password@]HOST[:PORT][/DB]` or `rediss://…` (TLS). A password is better
 * given in $MAILFERRY_QUEUE_PASSWORD, which keeps it out of the process list.
 */
export function parseQueueAddress(text: string, env: NodeJS.ProcessEnv, warn: (line: string) => void): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--queue: not a URL: ${text.replace(/:[^:@/]*@/, ':***@')} (expected redis://HOST:PORT[/DB])`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'redis' && scheme !== 'rediss') throw new UsageError(`--queue: unsupported scheme '${scheme}:' (expected redis:// or rediss://)`);
  if (!url.hostname) throw new UsageError('--queue: no host (expected redis://HOST:PORT[/DB])');
  const path = url.pathname.replace(/^\//, '');
  if (url.search || url.hash || !/^\d{0,2}$/.test(path)) throw new UsageError(`--queue: the path must be a database number, as in redis://${url.host}/0`);
  let password = url.password ? decodeURIComponent(url.password) : undefined;
  if (password !== undefined) warn('the queue password is in the --queue URL, where other users can see it in the process list; use MAILFERRY_QUEUE_PASSWORD');
  password ??= env.MAILFERRY_QUEUE_PASSWORD || undefined;
  const port = url.port ? Number(url.port) : 6379;
  const db = path ? Number(path) : 0;
  return {
    tls: scheme === 'rediss',
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(password !== undefined ? { password } : {}),
    label: `${scheme}://${url.host}/${db}`,
  };
}

/** What both ioredis and BullMQ take to connect. */
export interface RedisConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: { servername: string };
  maxRetriesPerRequest: null;
}

/** Connection options for the address; BullMQ's blocking connections need maxRetriesPerRequest null. */
export function redisOptions(address: QueueAddress): RedisConnection {
  return {
    host: address.host,
    port: address.port,
    db: address.db,
    ...(address.username !== undefined ? { username: address.username } : {}),
    ...(address.password !== undefined ? { password: address.password } : {}),
    ...(address.tls ? { tls: { servername: address.host } } : {}),
    maxRetriesPerRequest: null,
  };
}

// Specifications for the private redis-server that the distributed-queue tests and the bulk
// benchmark start: its own directory and port on 127.0.0.1, BullMQ's eviction policy, stopped by PID.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../src/sandbox/dovecot-server.js';
import { redisServerInstalled, startRedis, type RedisServer } from '../src/sandbox/redis-server.js';

const installed = await redisServerInstalled();
if (!installed) console.warn('skipping the Redis harness tests: /usr/bin/redis-server is missing (apt-get install -y redis-server)');

describe.skipIf(!installed)('the private redis-server', () => {
  let open: RedisServer;
  let guarded: RedisServer;
  beforeAll(async () => {
    [open, guarded] = await Promise.all([startRedis(), startRedis({ password: 'canary-redis-pw' })]);
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), guarded?.stop()]);
  });

  it('listens on 127.0.0.1 and keeps every key (noeviction, as BullMQ needs)', async () => {
    const client = new Redis(open.url);
    try {
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      await client.hset('campaign:x', 'state', 'done');
    } finally {
      client.disconnect();
    }
    expect(await open.keys()).toEqual(['campaign:x']);
    expect(await open.dump()).toContain('done');
    expect(await open.peakMemory()).toBeGreaterThan(100_000);
  });

  it('refuses a client without the password when one is set', async () => {
    const client = new Redis({ host: guarded.host, port: guarded.port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      await expect(client.ping()).rejects.toThrow(/NOAUTH/);
    } finally {
      client.disconnect();
    }
    expect(guarded.url).toBe(`redis://:canary-redis-pw@127.0.0.1:${guarded.port}`);
    expect(await guarded.keys()).toEqual([]);
  });

  it('stops by its PID and leaves nothing running', async () => {
    const extra = await startRedis();
    const pid = extra.pid;
    expect(isAlive(pid)).toBe(true);
    await extra.stop();
    expect(isAlive(pid)).toBe(false);
  });
});

// The distributed queue's address and the check made before anything starts: a Redis that is
// down, refuses the password or is not there is one line with the connection exit kind.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { parseQueueAddress } from '../src/bulk/queue/queue-address.js';
import { probeQueue } from '../src/bulk/queue/queue-probe.js';
import { ConnectionError, UsageError } from '../src/errors/errors.js';
import { freePortPair } from '../src/sandbox/dovecot-server.js';
import { redisServerInstalled, startRedis, type RedisServer } from '../src/sandbox/redis-server.js';

const noWarn = () => undefined;

describe('a queue address', () => {
  it('is redis://HOST[:PORT][/DB], 6379 and database 0 by default', () => {
    expect(parseQueueAddress('redis://queue.example', {}, noWarn)).toMatchObject({ host: 'queue.example', port: 6379, db: 0, tls: false, label: 'redis://queue.example/0' });
    expect(parseQueueAddress('rediss://10.0.0.5:6380/3', {}, noWarn)).toMatchObject({ host: '10.0.0.5', port: 6380, db: 3, tls: true });
  });

  it('takes its password from MAILFERRY_QUEUE_PASSWORD, and warns when the URL carries one', () => {
    expect(parseQueueAddress('redis://q:6379', { MAILFERRY_QUEUE_PASSWORD: 's3cret' }, noWarn).password).toBe('s3cret');
    const warnings: string[] = [];
    const address = parseQueueAddress('redis://:in%40url@q:6379', {}, (w) => warnings.push(w));
    expect(address.password).toBe('in@url');
    expect(address.label).not.toContain('in@url');
    expect(warnings).toEqual([expect.stringContaining('MAILFERRY_QUEUE_PASSWORD')]);
  });

  it.each([
    ['not a url', /not a URL/],
    ['http://q:6379', /unsupported scheme 'http:'/],
    ['redis://q:6379/jobs', /database number/],
    ['redis://q:6379/0?x=1', /database number/],
  ])('refuses %s with one line', (text, why) => {
    expect(() => parseQueueAddress(text, {}, noWarn)).toThrow(UsageError);
    expect(() => parseQueueAddress(text, {}, noWarn)).toThrow(why);
  });
});

const installed = await redisServerInstalled();
if (!installed) console.warn('skipping the queue probe tests: /usr/bin/redis-server is missing (apt-get install -y redis-server)');

describe.skipIf(!installed)('the queue probe', () => {
  let guarded: RedisServer;
  beforeAll(async () => {
    guarded = await startRedis({ password: 'canary-queue-pw' });
  });
  afterAll(async () => {
    await guarded?.stop();
  });

  it('passes with the right password', async () => {
    await probeQueue(parseQueueAddress(`redis://127.0.0.1:${guarded.port}`, { MAILFERRY_QUEUE_PASSWORD: 'canary-queue-pw' }, noWarn));
  });

  it('is a ConnectionError naming a refused password, without the password', async () => {
    const probe = probeQueue(parseQueueAddress(`redis://127.0.0.1:${guarded.port}`, { MAILFERRY_QUEUE_PASSWORD: 'wrong' }, noWarn));
    await expect(probe).rejects.toThrow(ConnectionError);
    await expect(probe).rejects.toThrow(`queue redis://127.0.0.1:${guarded.port}/0: the server refused the password`);
    const without = probeQueue(parseQueueAddress(`redis://127.0.0.1:${guarded.port}`, {}, noWarn));
    await expect(without).rejects.toThrow(/refused the password/);
  });

  it('is a ConnectionError naming a Redis that is down', async () => {
    const [port] = await freePortPair('127.0.0.1');
    await expect(probeQueue(parseQueueAddress(`redis://127.0.0.1:${port}`, {}, noWarn))).rejects.toThrow(`queue redis://127.0.0.1:${port}/0: connection refused`);
  });
});

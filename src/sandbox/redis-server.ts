import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePortPair, isAlive, waitGone } from './dovecot-server.js';

/** A private redis-server (Debian's package) for the distributed-queue tests and benchmarks. */
export interface RedisOptions {
  /** Require this password (AUTH): to test a Redis that refuses. */
  password?: string;
}

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** redis://[:password@]host:port */
  readonly url: string;
  /** Peak memory Redis has used so far (INFO memory's used_memory_peak), in bytes. */
  peakMemory(): Promise<number>;
  /** Every key name. */
  keys(): Promise<string[]>;
  /** Every key and value as text, for tests that look for secrets. */
  dump(): Promise<string>;
  /** SIGTERM to our redis-server, then SIGKILL after a grace period; removes its directory. */
  stop(): Promise<void>;
}

const REDIS_SERVER = '/usr/bin/redis-server';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export async function redisServerInstalled(): Promise<boolean> {
  return fs.access(REDIS_SERVER).then(() => true, () => false);
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-redis-'));
  const host = '127.0.0.1';
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePortPair(host);
    const config = [
      `bind ${host}`,
      `port ${port}`,
      `dir ${dir}`,
      'daemonize no',
      'save ""',
      'appendonly no',
      // BullMQ needs every key kept: an evicted lock or job would be lost work.
      'maxmemory-policy noeviction',
      `logfile ${path.join(dir, 'redis.log')}`,
      ...(opts.password !== undefined ? [`requirepass ${opts.password}`] : []),
    ].join('\n');
    await fs.writeFile(path.join(dir, 'redis.conf'), `${config}\n`, { mode: 0o600 });
    const child = spawn(REDIS_SERVER, [path.join(dir, 'redis.conf')], { stdio: 'ignore' });
    const server = new SandboxRedis(host, port, dir, child, opts.password);
    try {
      await server.waitReady();
      return server;
    } catch (err) {
      await server.stop();
      if (attempt >= 3) throw err;
    }
  }
}

class SandboxRedis implements RedisServer {
  private stopping: Promise<void> | undefined;
  private readonly exitHook = () => {
    if (isAlive(this.pid)) process.kill(this.pid, 'SIGKILL');
  };

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly password: string | undefined,
  ) {
    process.once('exit', this.exitHook);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `redis://${this.password !== undefined ? `:${encodeURIComponent(this.password)}@` : ''}${this.host}:${this.port}`;
  }

  async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`redis-server exited with ${this.child.exitCode}: ${await this.log()}`);
      try {
        if ((await this.withClient((c) => c.ping())) === 'PONG') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`redis-server not ready: ${await this.log()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async peakMemory(): Promise<number> {
    const info = await this.withClient((c) => c.info('memory'));
    const match = /used_memory_peak:(\d+)/.exec(info);
    if (!match) throw new Error('INFO memory has no used_memory_peak');
    return Number(match[1]);
  }

  keys(): Promise<string[]> {
    return this.withClient((c) => c.keys('*'));
  }

  /** Every value of every string, hash, list, set and sorted set, for tests that look for secrets. */
  dump(): Promise<string> {
    return this.withClient(async (c) => {
      const parts: string[] = [];
      for (const key of await c.keys('*')) {
        const type = await c.type(key);
        if (type === 'string') parts.push((await c.getBuffer(key))?.toString('latin1') ?? '');
        else if (type === 'hash') parts.push(...Object.entries(await c.hgetall(key)).flat());
        else if (type === 'list') parts.push(...(await c.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(...(await c.smembers(key)));
        else if (type === 'zset') parts.push(...(await c.zrange(key, 0, -1)));
        else if (type === 'stream') parts.push(JSON.stringify(await c.xrange(key, '-', '+')));
        parts.push(key);
      }
      return parts.join('\n');
    });
  }

  private async withClient<T>(use: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis({ host: this.host, port: this.port, password: this.password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // What fails is thrown by connect() or the command; the event would only be printed.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await use(client);
    } finally {
      client.disconnect();
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      process.removeListener('exit', this.exitHook);
      if (isAlive(this.pid)) {
        process.kill(this.pid, 'SIGTERM');
        if (!(await waitGone(this.pid, STOP_TIMEOUT_MS))) process.kill(this.pid, 'SIGKILL');
        await waitGone(this.pid, STOP_TIMEOUT_MS);
      }
      await fs.rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  private async log(): Promise<string> {
    return (await fs.readFile(path.join(this.dir, 'redis.log'), 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
  }
}

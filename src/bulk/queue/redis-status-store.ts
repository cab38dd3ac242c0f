import { Redis } from 'ioredis';
import type { AccountState, AccountStatus, CampaignSnapshot, ThroughputSample } from '../account-status.js';
import type { BulkAccount, BulkCommand } from '../bulk-account.js';
import type { AccountFiles, AttemptEnd, CampaignIdentity, StatusStore } from '../status-store.js';
import { redisOptions, type QueueAddress } from './queue-address.js';

/** Accounts per pipeline: 10,000 accounts are 20 round trips, not 10,000. */
const CHUNK = 500;

/**
 * The status of a distributed campaign, in the same Redis as its queue, so that every worker
 * writes its accounts' rows and `bulk status --queue` (on any machine) reads the same table
 * the embedded mode keeps in SQLite. Keys: `mailferry:{QUEUE}:campaign` (hash),
 * `…:accounts` (sorted set of keys by list position), `…:account:KEY` (hash, one per account),
 * `…:totals` (hash) and `…:throughput` (list of JSON samples). Never a secret.
 */
export class RedisStatusStore implements StatusStore {
  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  static open(address: QueueAddress, queueName: string): RedisStatusStore {
    const redis = new Redis({ ...redisOptions(address), lazyConnect: false });
    // Commands fail with what went wrong; the event would only repeat it.
    redis.on('error', () => undefined);
    return new RedisStatusStore(redis, `mailferry:{${queueName}}`);
  }

  /** Records which campaign this queue holds; a queue holds one command's campaign at a time. */
  async claim(identity: CampaignIdentity): Promise<CampaignIdentity> {
    const key = `${this.prefix}:campaign`;
    await this.redis.hsetnx(key, 'command', identity.command);
    await this.redis.hset(key, 'list', identity.list);
    const command = (await this.redis.hget(key, 'command')) as BulkCommand;
    return { command, list: identity.list };
  }

  async identity(): Promise<CampaignIdentity | undefined> {
    const fields = await this.redis.hgetall(`${this.prefix}:campaign`);
    return fields.command ? { command: fields.command as BulkCommand, list: fields.list ?? '' } : undefined;
  }

  /** Every account is queued again (a rerun rechecks the done ones); its counters are kept. */
  async enroll(accounts: readonly BulkAccount[], files: (account: BulkAccount) => AccountFiles): Promise<void> {
    for (let start = 0; start < accounts.length; start += CHUNK) {
      const batch = this.redis.pipeline();
      accounts.slice(start, start + CHUNK).forEach((a, i) => {
        const key = this.accountKey(a.key);
        batch.zadd(`${this.prefix}:accounts`, start + i, a.key);
        batch.hset(key, { key: a.key, id: a.id ?? '', from: a.from, to: a.to, state: 'queued', ...files(a) });
        for (const counter of ['attempts', 'messages', 'bytes', 'durationMs']) batch.hsetnx(key, counter, 0);
      });
      await exec(batch);
    }
  }

  async started(key: string, worker: string, files: AccountFiles): Promise<void> {
    const account = this.accountKey(key);
    await exec(
      this.redis
        .multi()
        .hset(account, { state: 'running', worker, ...files })
        .hincrby(account, 'attempts', 1)
        .hsetnx(account, 'startedAt', new Date().toISOString()),
    );
  }

  async finished(key: string, end: AttemptEnd): Promise<void> {
    const account = this.accountKey(key);
    const at = new Date().toISOString();
    const fields: Record<string, string | number> = { state: end.state, finishedAt: at, lastError: end.error ?? '' };
    if (end.exitCode !== undefined) fields.exitCode = end.exitCode;
    const totals = `${this.prefix}:totals`;
    const replies = await exec(
      this.redis
        .multi()
        .hset(account, fields)
        .hincrby(account, 'messages', end.messages)
        .hincrby(account, 'bytes', end.bytes)
        .hincrby(account, 'durationMs', Math.round(end.durationMs))
        .hincrby(totals, 'messages', end.messages)
        .hincrby(totals, 'bytes', end.bytes),
    );
    // Every finished attempt is a point of the throughput chart, whoever ran it.
    const [messages, bytes] = replies.slice(-2) as number[];
    await this.sample({ at, messages: messages!, bytes: bytes! });
  }

  async sample(sample: ThroughputSample): Promise<void> {
    await this.redis.rpush(`${this.prefix}:throughput`, JSON.stringify(sample));
  }

  async snapshot(): Promise<CampaignSnapshot> {
    const identity = (await this.identity()) ?? { command: 'migrate' as const, list: '' };
    const keys = await this.redis.zrange(`${this.prefix}:accounts`, 0, -1);
    const accounts: AccountStatus[] = [];
    for (let start = 0; start < keys.length; start += CHUNK) {
      const batch = this.redis.pipeline();
      for (const key of keys.slice(start, start + CHUNK)) batch.hgetall(this.accountKey(key));
      for (const fields of (await exec(batch)) as Array<Record<string, string>>) accounts.push(accountStatus(fields));
    }
    const throughput = (await this.redis.lrange(`${this.prefix}:throughput`, 0, -1)).map((s) => JSON.parse(s) as ThroughputSample);
    return { command: identity.command, list: identity.list, takenAt: new Date().toISOString(), accounts, throughput };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private accountKey(key: string): string {
    return `${this.prefix}:account:${key}`;
  }
}

/** Runs a pipeline or transaction; the first command error fails it. */
async function exec(batch: { exec(): Promise<Array<[Error | null, unknown]> | null> }): Promise<unknown[]> {
  const replies = (await batch.exec()) ?? [];
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0];
  return replies.map(([, value]) => value);
}

function accountStatus(f: Record<string, string>): AccountStatus {
  const optional = (name: string): string | undefined => (f[name] ? f[name] : undefined);
  const exitCode = optional('exitCode');
  return {
    key: f.key ?? '',
    ...(optional('id') !== undefined ? { id: f.id! } : {}),
    from: f.from ?? '',
    to: f.to ?? '',
    state: (f.state ?? 'queued') as AccountState,
    attempts: Number(f.attempts ?? 0),
    ...(optional('lastError') !== undefined ? { lastError: f.lastError! } : {}),
    ...(exitCode !== undefined ? { exitCode: Number(exitCode) } : {}),
    messages: Number(f.messages ?? 0),
    bytes: Number(f.bytes ?? 0),
    durationMs: Number(f.durationMs ?? 0),
    ...(optional('startedAt') !== undefined ? { startedAt: f.startedAt! } : {}),
    ...(optional('finishedAt') !== undefined ? { finishedAt: f.finishedAt! } : {}),
    checkpoint: f.checkpoint ?? '',
    log: f.log ?? '',
    ...(optional('worker') !== undefined ? { worker: f.worker! } : {}),
  };
}

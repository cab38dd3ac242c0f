import type { AccountState, AccountStatus, CampaignSnapshot, ThroughputSample } from '../../src/bulk/account-status.js';
import { prng } from './prng.js';

export interface SnapshotShape {
  accounts: number;
  /** Indexes (in list order) of the accounts that failed, each with its error line. */
  failed: Record<number, string>;
  /** Indexes of accounts in other states than done/failed. */
  other?: Record<number, AccountState>;
  samples: number;
  seed?: number;
}

/**
 * A campaign as the status store would snapshot it, built from a seed: accounts of varied sizes and
 * durations started one after another from 10:00:00 UTC, and cumulative throughput samples every
 * 5 s whose last one equals the campaign's totals.
 */
export function campaignSnapshot(shape: SnapshotShape): CampaignSnapshot {
  const random = prng(shape.seed ?? 12);
  const start = Date.parse('2026-12-06T10:00:00.000Z');
  const accounts: AccountStatus[] = [];
  for (let i = 0; i < shape.accounts; i += 1) {
    const n = String(i + 1).padStart(2, '0');
    const error = shape.failed[i];
    const state: AccountState = error !== undefined ? 'failed' : shape.other?.[i] ?? 'done';
    const messages = state === 'queued' ? 0 : 2 + Math.floor(random() * 300);
    const startedAt = start + i * 2000;
    const durationMs = state === 'queued' ? 0 : 1000 + Math.floor(random() * 60_000);
    accounts.push({
      key: `acct-${n}`,
      ...(i % 3 === 0 ? { id: `user${n}` } : {}),
      from: `imaps://user${n}@old.example.org/`,
      to: `imaps://user${n}@new.example.org/`,
      state,
      attempts: state === 'queued' ? 0 : error !== undefined ? 3 : 1,
      messages,
      bytes: messages * (1000 + Math.floor(random() * 100_000)),
      durationMs,
      ...(state === 'queued' ? {} : { startedAt: iso(startedAt) }),
      ...(state === 'done' || state === 'failed' ? { finishedAt: iso(startedAt + durationMs), exitCode: error !== undefined ? 3 : 0 } : {}),
      ...(error !== undefined ? { lastError: error } : {}),
      checkpoint: `/var/lib/mailferry/campaign/acct-${n}.sqlite`,
      log: `/var/lib/mailferry/campaign/acct-${n}.log`,
    });
  }
  return { command: 'migrate', list: '/srv/lists/school.csv', takenAt: iso(start + 200_000), accounts, throughput: samples(accounts, start, shape.samples, random) };
}

/** Cumulative samples that grow unevenly (so the chart has a shape) up to the accounts' totals. */
function samples(accounts: readonly AccountStatus[], start: number, count: number, random: () => number): ThroughputSample[] {
  const messages = accounts.reduce((sum, a) => sum + a.messages, 0);
  const bytes = accounts.reduce((sum, a) => sum + a.bytes, 0);
  const weights = Array.from({ length: count }, (_, i) => (i === 0 ? 0 : 0.2 + random()));
  const total = weights.reduce((s, w) => s + w, 0);
  let share = 0;
  return weights.map((w, i) => {
    share += w / total;
    const last = i === count - 1;
    return { at: iso(start + i * 5000), messages: last ? messages : Math.floor(messages * share), bytes: last ? bytes : Math.floor(bytes * share) };
  });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

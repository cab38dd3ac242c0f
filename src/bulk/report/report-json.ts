import type { AccountStatus, CampaignSnapshot } from '../account-status.js';
import { ACCOUNT_STATES } from '../account-status.js';
import { campaignTotals } from '../campaign-totals.js';
import { campaignSpan } from './campaign-span.js';

/** Bumped when a key changes meaning or goes away (adding one does not). */
export const REPORT_JSON_VERSION = 1;

/**
 * report.json: the snapshot plus its totals (campaignTotals, as `bulk status` prints them) and its
 * wall time (campaignSpan). Every object is built key by key, so
 * the key order is fixed whatever order the store filled the snapshot in, and an absent optional
 * value is null rather than a missing key: each account has the same shape (docs/bulk.md, "Reports").
 */
export function reportJson(snapshot: CampaignSnapshot): string {
  const totals = campaignTotals(snapshot.accounts);
  const span = campaignSpan(snapshot);
  const report = {
    report: 'mailferry-bulk',
    version: REPORT_JSON_VERSION,
    command: snapshot.command,
    list: snapshot.list,
    takenAt: snapshot.takenAt,
    totals: {
      accounts: totals.accounts,
      byState: Object.fromEntries(ACCOUNT_STATES.map((s) => [s, totals.byState[s]])),
      messages: totals.messages,
      bytes: totals.bytes,
      durationMs: totals.durationMs,
    },
    span: span === undefined ? null : { startedAt: span.startedAt, endedAt: span.endedAt, wallMs: span.wallMs },
    accounts: snapshot.accounts.map(accountJson),
    throughput: snapshot.throughput.map((s) => ({ at: s.at, messages: s.messages, bytes: s.bytes })),
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

function accountJson(a: AccountStatus): Record<string, unknown> {
  return {
    key: a.key,
    id: a.id ?? null,
    from: a.from,
    to: a.to,
    state: a.state,
    attempts: a.attempts,
    messages: a.messages,
    bytes: a.bytes,
    durationMs: a.durationMs,
    startedAt: a.startedAt ?? null,
    finishedAt: a.finishedAt ?? null,
    exitCode: a.exitCode ?? null,
    lastError: a.lastError ?? null,
    checkpoint: a.checkpoint,
    log: a.log,
    worker: a.worker ?? null,
  };
}

import { ACCOUNT_STATES, type AccountState, type AccountStatus } from './account-status.js';

/** The totals line of `bulk status` and of every report. */
export interface CampaignTotals {
  accounts: number;
  byState: Record<AccountState, number>;
  messages: number;
  bytes: number;
  /** Running time of all accounts together (not wall time). */
  durationMs: number;
}

export function campaignTotals(accounts: readonly AccountStatus[]): CampaignTotals {
  const byState = Object.fromEntries(ACCOUNT_STATES.map((s) => [s, 0])) as Record<AccountState, number>;
  let messages = 0;
  let bytes = 0;
  let durationMs = 0;
  for (const a of accounts) {
    byState[a.state] += 1;
    messages += a.messages;
    bytes += a.bytes;
    durationMs += a.durationMs;
  }
  return { accounts: accounts.length, byState, messages, bytes, durationMs };
}

import type { AccountState, AccountStatus } from '../account-status.js';

/** What needs attention first: the HTML table's first order, and what its State column sorts by. */
export const STATE_RANK: Record<AccountState, number> = {
  failed: 0,
  retrying: 1,
  running: 2,
  queued: 3,
  skipped: 4,
  done: 5,
};

/** Failures first, then by STATE_RANK; within a state, the snapshot's own order (a stable sort). */
export function failuresFirst(accounts: readonly AccountStatus[]): AccountStatus[] {
  return [...accounts].sort((a, b) => STATE_RANK[a.state] - STATE_RANK[b.state]);
}

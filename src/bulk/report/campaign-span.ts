import type { CampaignSnapshot } from '../account-status.js';

/** The campaign's wall time: from its first start to its last finish or throughput sample. */
export interface CampaignSpan {
  /** ISO 8601 */
  startedAt: string;
  endedAt: string;
  wallMs: number;
}

/** Undefined when nothing has started yet (no start time and no sample). */
export function campaignSpan(snapshot: CampaignSnapshot): CampaignSpan | undefined {
  const samples = snapshot.throughput.map((s) => s.at);
  const start = extreme([...snapshot.accounts.map((a) => a.startedAt), ...samples], Math.min);
  if (start === undefined) return undefined;
  const end = Math.max(start, extreme([...snapshot.accounts.map((a) => a.finishedAt), ...samples], Math.max) ?? start);
  return { startedAt: new Date(start).toISOString(), endedAt: new Date(end).toISOString(), wallMs: end - start };
}

/** A loop, not Math.min(...times): a campaign of tens of thousands of accounts overflows the argument list. */
function extreme(isoTimes: readonly (string | undefined)[], pick: (a: number, b: number) => number): number | undefined {
  let found: number | undefined;
  for (const iso of isoTimes) {
    const t = iso === undefined ? Number.NaN : Date.parse(iso);
    if (Number.isFinite(t)) found = found === undefined ? t : pick(found, t);
  }
  return found;
}

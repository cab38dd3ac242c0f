import type { CampaignSnapshot } from '../account-status.js';
import { csvRecord } from './csv-field.js';

/** report.csv's columns, in order (docs/bulk.md, "Reports"). */
export const REPORT_CSV_COLUMNS = [
  'key', 'id', 'from', 'to', 'state', 'attempts', 'messages', 'bytes',
  'duration_s', 'started', 'finished', 'exit_code', 'last_error',
] as const;

/** A header row, then one row per account in the snapshot's order. */
export function reportCsv(snapshot: CampaignSnapshot): string {
  const rows = snapshot.accounts.map((a) => csvRecord([
    a.key, a.id, a.from, a.to, a.state, a.attempts, a.messages, a.bytes,
    seconds(a.durationMs), a.startedAt, a.finishedAt, a.exitCode, a.lastError,
  ]));
  return csvRecord(REPORT_CSV_COLUMNS) + rows.join('');
}

/** Milliseconds as seconds with up to three decimals ("12.5", not "12.500"). */
function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

import { UsageError } from '../errors/errors.js';

const RELATIVE = /^(\d+)([dwmy])$/;

/**
 * A `--since`/`--before` value: a date (`YYYY-MM-DD` is UTC midnight, or any ISO 8601 time), or an
 * age before the run's start as imapsync's --maxage/--minage give it: `30d`, `6w`, `3m` (months),
 * `1y`. An age counts whole UTC days back from the start of the run's UTC day, so every folder of
 * a run (and its dry run) sees the same boundary, whenever the folder is reached.
 */
export function parseDateOption(text: string | undefined, option: string, runStart: Date): Date | undefined {
  if (text === undefined) return undefined;
  const age = RELATIVE.exec(text.trim());
  if (age) return ago(Number(age[1]), age[2] as Unit, runStart);
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${option}: not a date or an age: ${text} (use YYYY-MM-DD, or e.g. 30d, 6w, 3m, 1y)`);
  return date;
}

type Unit = 'd' | 'w' | 'm' | 'y';

function ago(n: number, unit: Unit, runStart: Date): Date {
  const y = runStart.getUTCFullYear();
  const m = runStart.getUTCMonth();
  const d = runStart.getUTCDate();
  if (unit === 'd' || unit === 'w') return new Date(Date.UTC(y, m, d - n * (unit === 'w' ? 7 : 1)));
  const months = unit === 'm' ? n : 12 * n;
  // 31 March less one month is 28 (or 29) February, not 3 March.
  const lastDay = new Date(Date.UTC(y, m - months + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m - months, Math.min(d, lastDay)));
}

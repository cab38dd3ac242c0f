import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ancestorWriteError } from '../ancestor-write-error.js';
import { fileFailure } from '../stores/local/local-errors.js';

/**
 * The logs of `mailferry run`'s jobs: `<logs dir>/<job>/<YYYY-MM-DD>.jsonl`, one file per local
 * day (runs on the same day append to it), the days before the last `keepDays` removed.
 * Returns today's file for `job`, its directory made (0700) and pruned.
 */
export function datedLogFile(logsDir: string, job: string, keepDays: number, now = new Date()): string {
  const dir = join(logsDir, jobDirName(job));
  const oldest = new Date(now);
  oldest.setDate(oldest.getDate() - keepDays + 1);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir)) {
      const day = DATED.exec(name)?.[1];
      if (day !== undefined && day < localDay(oldest)) rmSync(join(dir, name), { force: true });
    }
  } catch (err) {
    throw fileFailure(ancestorWriteError(dir) ?? err, `cannot write the log directory ${dir}`);
  }
  return join(dir, `${localDay(now)}.jsonl`);
}

const DATED = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

/** `2026-12-06` in local time: a nightly job's day is the one its owner's clock shows. */
function localDay(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
}

/** A job's name as one directory name: no `/`, and never `.`, `..` or hidden; distinct names stay distinct. */
function jobDirName(job: string): string {
  return encodeURIComponent(job).replace(/^\./, '%2E') || '%';
}

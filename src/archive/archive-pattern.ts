import * as path from 'node:path';
import { UsageError } from '../errors/errors.js';

/**
 * `--archive PATTERN`: where each run's archive goes and which older files are its siblings for
 * `--keep`. `{date}` in the file name becomes the run's local date, YYYY-MM-DD; the extension
 * picks the format.
 */

export type ArchiveKind = 'tar.gz' | 'zip';

export interface ArchivePlan {
  dir: string;
  /** The file name with `{date}` still in it. */
  template: string;
  kind: ArchiveKind;
}

const DATE = '{date}';

export function planArchive(pattern: string, backupDir: string): ArchivePlan {
  const target = path.resolve(pattern);
  const dir = path.dirname(target);
  const template = path.basename(target);
  if (dir.includes(DATE)) throw new UsageError(`--archive ${pattern}: ${DATE} may only appear in the file name`);
  const kind = /\.(tar\.gz|tgz)$/i.test(template) ? 'tar.gz' : /\.zip$/i.test(template) ? 'zip' : undefined;
  if (!kind) throw new UsageError(`--archive ${pattern}: the name must end in .tar.gz, .tgz or .zip`);
  const root = path.resolve(backupDir);
  if (target === root || target.startsWith(root + path.sep)) {
    throw new UsageError(`--archive ${pattern}: put the archive outside the backup directory, or the next archive would contain this one`);
  }
  return { dir, template, kind };
}

export function archivePath(plan: ArchivePlan, date: Date): string {
  return path.join(plan.dir, plan.template.split(DATE).join(localDate(date)));
}

/** Whether `name` (a file in `plan.dir`) is an archive this pattern makes, for any date. */
export function isArchiveOf(plan: ArchivePlan, name: string): boolean {
  const parts = plan.template.split(DATE).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('\\d{4}-\\d{2}-\\d{2}')}$`).test(name);
}

function localDate(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

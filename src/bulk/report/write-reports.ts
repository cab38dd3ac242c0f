import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { CampaignSnapshot } from '../account-status.js';
import { writeFileAtomic } from '../../stores/local/safe-fs.js';
import { reportCsv } from './report-csv.js';
import { reportHtml } from './report-html.js';
import { reportJson } from './report-json.js';

export interface ReportPaths {
  json: string;
  csv: string;
  html: string;
}

/**
 * Writes report.json, report.csv and report.html into `dir` (created 0700 if missing). Each file is
 * 0600, since the reports name accounts, and replaced atomically: a reader or a crash sees the last
 * report or the new one, never half of one.
 */
export async function writeReports(snapshot: CampaignSnapshot, dir: string): Promise<ReportPaths> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const paths: ReportPaths = {
    json: path.join(dir, 'report.json'),
    csv: path.join(dir, 'report.csv'),
    html: path.join(dir, 'report.html'),
  };
  await writeFileAtomic(paths.json, reportJson(snapshot));
  await writeFileAtomic(paths.csv, reportCsv(snapshot));
  await writeFileAtomic(paths.html, reportHtml(snapshot));
  return paths;
}

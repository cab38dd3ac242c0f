// The Markdown table (stdout, and next to the JSON) and the JSON record in bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CorpusOptions } from '../src/sandbox/corpus.js';
import type { Loaded } from './maildir-loader.js';
import { median } from './measure.js';
import { hasFigures, maxRss, medianWall, messagesPerSecond, type Row } from './results.js';
import type { Environment } from './environment.js';
import type { ProxyCheck } from './lab.js';
import type { TargetCheck } from './targets.js';
import { NEW_MESSAGES } from './tool.js';

export interface CorpusSummary extends Loaded {
  name: string;
  user: string;
  options: CorpusOptions;
  /** see BenchCorpus */
  spreadBig: number | undefined;
  selection: string | undefined;
}

export interface Results {
  date: string;
  command: string;
  runsPerCase: number;
  totalWallSeconds: number;
  /** 1-minute load average before and after: above ~0.5 at the start, something else was running */
  loadAverage: { start: number; end: number };
  environment: Environment;
  /** each delay proxy's check: round trips straight to Dovecot and through the proxy */
  proxies: ProxyCheck[];
  corpora: CorpusSummary[];
  rows: Row[];
  targets: TargetCheck[];
}

export function markdown(results: Results): string {
  const corpora = results.corpora
    .map((c) => `${c.name} = ${c.messages} msg / ${(c.bytes / 1e6).toFixed(1)} MB in ${c.folders} folders (median ${(c.medianBytes / 1e3).toFixed(1)} KB, ${c.over100k} ≥ 100 KB)`)
    .join('; ');
  const lines = [
    `Corpora: ${corpora}. ${results.runsPerCase} runs per row; wall is the median, with min–max; peak RSS is the highest run; CPU medians.`,
    `Load average ${results.loadAverage.start.toFixed(2)} at the start, ${results.loadAverage.end.toFixed(2)} at the end; total wall ${results.totalWallSeconds.toFixed(0)} s.`,
    '',
    '| tool | link | corpus | phase | runs | wall s | min–max s | msg/s | MB/s | peak RSS MB | client CPU s | machine CPU s | wire MB up / down |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.rows.map(tableRow),
    '',
    '| target (issues #5, #17) | measured | limit | met |',
    '|---|---|---|---|',
    ...results.targets.map((t) => `| ${t.target} | ${t.measured} | ${t.limit} | ${t.met === undefined ? 'n/a' : t.met ? 'yes' : '**no**'} |`),
  ];
  return lines.join('\n') + '\n';
}

const PHASE_LABELS: Record<Row['phase'], string> = { full: 'full', rerun: 'no-change rerun', update: `rerun after ${NEW_MESSAGES} new` };

function tableRow(r: Row): string {
  const link = `${r.rttMs} ms${r.tls ? ' TLS' : ''}${r.rate === null ? '' : `, ${r.rate / 1e6} MB/s`}`;
  const head = `| ${r.tool} | ${link} | ${r.corpus} | ${PHASE_LABELS[r.phase]}`;
  if (!hasFigures(r)) return `${head} | ${r.status}: ${r.reason ?? ''} | | | | | | | | |`;
  const wall = medianWall(r);
  const full = r.phase === 'full';
  return [
    head, r.wallSeconds.length, wall.toFixed(2),
    `${Math.min(...r.wallSeconds).toFixed(2)}–${Math.max(...r.wallSeconds).toFixed(2)}`,
    full ? messagesPerSecond(r).toFixed(0) : '-',
    full ? (r.bytes / 1e6 / wall).toFixed(1) : '-',
    maxRss(r).toFixed(0), median(r.cpuSeconds).toFixed(2), median(r.machineCpuSeconds).toFixed(2),
    r.wireBytes ? `${(median(r.wireBytes.up) / 1e6).toFixed(1)} / ${(median(r.wireBytes.down) / 1e6).toFixed(1)}` : '-',
  ].join(' | ') + ' |';
}

/** Writes bench/results/<date>.json and .md; returns the JSON path. */
export function save(results: Results): string {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const base = join(dir, results.date.replace(/[:.]/g, '-'));
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(`${base}.md`, markdown(results));
  return `${base}.json`;
}

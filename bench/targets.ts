// Issue #5's targets, each a ratio or bound measured in this very run.
import { MAIN, SCALE, SCALE_BASE, SUBSET } from './corpora.js';
import { backupMaildir, migrate, migrateDefault, RTT_MS } from './plan.js';
import { hasFigures, maxRss, medianWall, messagesPerSecond, type Row } from './results.js';
import type { Tool } from './tool.js';
import { doveadmBackup } from './tools/doveadm-backup.js';
import { mbsync } from './tools/mbsync.js';

export interface TargetCheck {
  target: string;
  measured: string;
  limit: string;
  /** undefined when a row it needs has no figures (skipped or failed) */
  met: boolean | undefined;
}

/** No-change rerun of the 20 folders, in seconds, by RTT. */
const RERUN_LIMIT_S: Record<number, number> = { 0: 0.5, [RTT_MS]: 1.0 };
const RSS_LIMIT_MB = 250;

export function checkTargets(rows: Row[]): TargetCheck[] {
  const find = (tool: Tool, rttMs: number, corpus: { name: string }, phase: Row['phase'] = 'full'): Row | undefined =>
    rows.find((r) => r.tool === tool.name && r.rttMs === rttMs && r.corpus === corpus.name && r.phase === phase && hasFigures(r));
  const check = (target: string, limit: string, figures: (() => { measured: string; met: boolean }) | undefined): TargetCheck =>
    figures ? { target, limit, ...figures() } : { target, limit, measured: 'n/a', met: undefined };
  const wallRatio = (a: Tool, b: Tool, rttMs: number, corpus: { name: string }, limit: number): TargetCheck => {
    const ra = find(a, rttMs, corpus);
    const rb = find(b, rttMs, corpus);
    return check(`${a.name} / ${b.name}, full, ${rttMs} ms, ${corpus.name}`, `≤ ${limit}×`, ra && rb && (() => {
      const x = medianWall(ra) / medianWall(rb);
      return { measured: `${x.toFixed(2)}× (${medianWall(ra).toFixed(2)} s / ${medianWall(rb).toFixed(2)} s)`, met: x <= limit };
    }));
  };

  const checks = [
    ...migrate.map((tool) => wallRatio(tool, doveadmBackup, 0, MAIN, 1.2)),
    wallRatio(backupMaildir, mbsync, 0, MAIN, 1.0),
    ...migrate.filter((tool) => find(tool, RTT_MS, SUBSET)).map((tool) => wallRatio(tool, doveadmBackup, RTT_MS, SUBSET, 0.5)),
    wallRatio(backupMaildir, mbsync, RTT_MS, SUBSET, 0.8),
  ];

  for (const r of rows.filter((x) => x.tool.startsWith('mailferry') && x.phase === 'rerun')) {
    const limit = RERUN_LIMIT_S[r.rttMs];
    if (limit === undefined) continue;
    checks.push(check(`${r.tool}, no-change rerun, ${r.rttMs} ms, ${r.corpus}`, `≤ ${limit} s`, hasFigures(r) ? () => ({ measured: `${medianWall(r).toFixed(2)} s`, met: medianWall(r) <= limit }) : undefined));
  }

  const mailferryRows = rows.filter((r) => r.tool.startsWith('mailferry') && hasFigures(r));
  const worst = mailferryRows.length > 0 ? mailferryRows.reduce((a, b) => (maxRss(b) > maxRss(a) ? b : a)) : undefined;
  checks.push(check('mailferry client peak RSS, highest of all runs', `≤ ${RSS_LIMIT_MB} MB`, worst && (() => ({
    measured: `${maxRss(worst).toFixed(0)} MB (${worst.tool}, ${worst.phase}, ${worst.rttMs} ms, ${worst.corpus})`,
    met: maxRss(worst) <= RSS_LIMIT_MB,
  }))));

  const scale = find(migrateDefault, 0, SCALE);
  const base = find(migrateDefault, 0, SCALE_BASE);
  checks.push(check(`${migrateDefault.name} peak RSS, ${SCALE.name} vs ${SCALE_BASE.name}`, 'no growth', scale && base && (() => ({
    measured: `${maxRss(scale).toFixed(0)} MB vs ${maxRss(base).toFixed(0)} MB`,
    met: maxRss(scale) <= maxRss(base),
  }))));
  checks.push(check(`${migrateDefault.name} throughput, ${SCALE.name} / ${SCALE_BASE.name}`, '≥ 0.8', scale && base && (() => {
    const x = messagesPerSecond(scale) / messagesPerSecond(base);
    return { measured: `${x.toFixed(2)} (${messagesPerSecond(scale).toFixed(0)} / ${messagesPerSecond(base).toFixed(0)} msg/s)`, met: x >= 0.8 };
  })));
  return checks;
}

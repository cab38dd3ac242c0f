// Issues #5's and #17's targets, each a ratio or bound measured in this very run.
import { LARGE, LARGE_BASE, MAIN, SUBSET, TEXT_1K, type BenchCorpus } from './corpora.js';
import { backupMaildir, CAPPED, linkLabel, migrate1, migrateDefault, PLAIN, PLAIN_40, TLS, TLS_40, TLS_100, type Link } from './plan.js';
import { hasFigures, maxRss, medianWall, messagesPerSecond, wireBytes, type Row } from './results.js';
import { NEW_MESSAGES, type Tool } from './tool.js';
import { doveadmBackup } from './tools/doveadm-backup.js';
import { mbsync } from './tools/mbsync.js';
import { offlineimap } from './tools/offlineimap.js';

export interface TargetCheck {
  target: string;
  measured: string;
  limit: string;
  /** undefined when a row it needs has no figures (skipped or failed) */
  met: boolean | undefined;
}

/** Issue #5's no-change reruns of the 20 folders over plaintext, in seconds, by RTT. */
const RERUN_LIMIT_S: Record<number, number> = { 0: 0.5, [PLAIN_40.rttMs]: 1.0 };
/** Issue #17: peak RSS of every mailferry row. */
const RSS_LIMIT_MB = 150;
/** Issue #17: a TLS row's ratio may exceed its plaintext row's by this factor at most. */
const TLS_RATIO_SLACK = 1.1;
/** Issue #17: on the capped link, mailferry's wall is within this factor of the time its bytes need. */
const CAPPED_WALL_SLACK = 1.2;
/** Issue #17: text mail crosses the capped link in at most this share of its size. */
const COMPRESSED_SHARE = 0.4;
/** Issue #17: the large account's reruns, in seconds. */
const LARGE_RERUN_S = { rerun: 1.5, update: 3 };

export function checkTargets(rows: Row[]): TargetCheck[] {
  const find = (tool: Tool, link: Link, corpus: BenchCorpus, phase: Row['phase'] = 'full'): Row | undefined =>
    rows.find((r) => r.tool === tool.name && onLink(r, link) && r.corpus === corpus.name && r.phase === phase && hasFigures(r));
  const check = (target: string, limit: string, figures: (() => { measured: string; met: boolean }) | undefined): TargetCheck =>
    figures ? { target, limit, ...figures() } : { target, limit, measured: 'n/a', met: undefined };
  const ratioOf = (a: Tool, b: Tool, link: Link, corpus: BenchCorpus): { x: number; text: string } | undefined => {
    const ra = find(a, link, corpus);
    const rb = find(b, link, corpus);
    if (!ra || !rb) return undefined;
    const x = medianWall(ra) / medianWall(rb);
    return { x, text: `${x.toFixed(2)}× (${medianWall(ra).toFixed(2)} s / ${medianWall(rb).toFixed(2)} s)` };
  };
  const pairLabel = (a: Tool, b: Tool, link: Link, corpus: BenchCorpus): string => `${a.name} / ${b.name}, full, ${linkLabel(link)}, ${corpus.name}`;
  const wallRatio = (a: Tool, b: Tool, link: Link, corpus: BenchCorpus, limit: number): TargetCheck => {
    const r = ratioOf(a, b, link, corpus);
    return check(pairLabel(a, b, link, corpus), `≤ ${limit}×`, r && (() => ({ measured: r.text, met: r.x <= limit })));
  };
  /** TLS must not cost mailferry more than it costs the anchor it is compared with. */
  const tlsRatio = (a: Tool, b: Tool, plain: Link, tls: Link, corpus: BenchCorpus): TargetCheck => {
    const p = ratioOf(a, b, plain, corpus);
    const t = ratioOf(a, b, tls, corpus);
    return check(pairLabel(a, b, tls, corpus), `≤ ${TLS_RATIO_SLACK} × plaintext's`, p && t && (() => ({
      measured: `${t.text}; plaintext ${p.x.toFixed(2)}×`,
      met: t.x <= TLS_RATIO_SLACK * p.x,
    })));
  };

  const checks = [
    // Issue #17's targets at 0 ms, over plaintext (issue #5's rows), then over TLS.
    wallRatio(migrate1, doveadmBackup, PLAIN, MAIN, 1.0),
    wallRatio(migrateDefault, doveadmBackup, PLAIN, MAIN, 0.8),
    wallRatio(backupMaildir, mbsync, PLAIN, MAIN, 0.8),
    tlsRatio(migrate1, doveadmBackup, PLAIN, TLS, MAIN),
    tlsRatio(migrateDefault, doveadmBackup, PLAIN, TLS, MAIN),
    tlsRatio(backupMaildir, mbsync, PLAIN, TLS, MAIN),
    // Issue #5's at 40 ms, then over TLS.
    wallRatio(migrateDefault, doveadmBackup, PLAIN_40, SUBSET, 0.5),
    wallRatio(backupMaildir, mbsync, PLAIN_40, SUBSET, 0.8),
    tlsRatio(migrateDefault, doveadmBackup, PLAIN_40, TLS_40, SUBSET),
    tlsRatio(backupMaildir, mbsync, PLAIN_40, TLS_40, SUBSET),
    // A far server.
    wallRatio(migrateDefault, doveadmBackup, TLS_100, SUBSET, 0.25),
    wallRatio(backupMaildir, mbsync, TLS_100, SUBSET, 0.45),
  ];

  // The capped link: the link is the only bottleneck, compression is on, and no anchor is faster.
  const rate = CAPPED.rate!;
  for (const corpus of [SUBSET, TEXT_1K]) {
    for (const tool of [migrateDefault, backupMaildir]) {
      const r = find(tool, CAPPED, corpus);
      const wire = r && wireBytes(r);
      checks.push(check(`${tool.name}, full, ${linkLabel(CAPPED)}, ${corpus.name}: wall / (wire bytes ÷ ${rate / 1e6} MB/s)`, `≤ ${CAPPED_WALL_SLACK}×`, r && wire !== undefined ? () => {
        const x = medianWall(r) / (wire / rate);
        return { measured: `${x.toFixed(2)}× (${medianWall(r).toFixed(2)} s; ${(wire / 1e6).toFixed(1)} MB the busier way)`, met: x <= CAPPED_WALL_SLACK };
      } : undefined));
      if (corpus === TEXT_1K) {
        checks.push(check(`${tool.name}, full, ${linkLabel(CAPPED)}, ${corpus.name}: wire bytes / the messages' size`, `≤ ${COMPRESSED_SHARE}×`, r && wire !== undefined ? () => {
          const x = wire / r.bytes;
          return { measured: `${x.toFixed(2)}× (${(wire / 1e6).toFixed(1)} MB / ${(r.bytes / 1e6).toFixed(1)} MB)`, met: x <= COMPRESSED_SHARE };
        } : undefined));
      }
      const anchors = [mbsync, doveadmBackup, offlineimap].map((a) => find(a, CAPPED, corpus)).filter((a) => a !== undefined);
      const fastest = anchors.length > 0 ? anchors.reduce((a, b) => (medianWall(b) < medianWall(a) ? b : a)) : undefined;
      checks.push(check(`${tool.name} / the fastest anchor, full, ${linkLabel(CAPPED)}, ${corpus.name}`, '≤ 1×', r && fastest && (() => {
        const x = medianWall(r) / medianWall(fastest);
        return { measured: `${x.toFixed(2)}× (${medianWall(r).toFixed(2)} s / ${fastest.tool} ${medianWall(fastest).toFixed(2)} s)`, met: x <= 1 };
      })));
    }
  }

  // Issue #5's reruns over plaintext on its own corpora.
  for (const r of rows.filter((x) => x.tool.startsWith('mailferry') && x.phase === 'rerun' && !x.tls && x.rate === null && [MAIN.name, SUBSET.name].includes(x.corpus))) {
    const limit = RERUN_LIMIT_S[r.rttMs];
    if (limit === undefined) continue;
    checks.push(check(`${r.tool}, no-change rerun, ${r.rttMs} ms, ${r.corpus}`, `≤ ${limit} s`, hasFigures(r) ? () => ({ measured: `${medianWall(r).toFixed(2)} s`, met: medianWall(r) <= limit }) : undefined));
  }

  const mailferryRows = rows.filter((r) => r.tool.startsWith('mailferry') && hasFigures(r));
  const worst = mailferryRows.length > 0 ? mailferryRows.reduce((a, b) => (maxRss(b) > maxRss(a) ? b : a)) : undefined;
  checks.push(check('mailferry client peak RSS, highest of all rows and runs', `≤ ${RSS_LIMIT_MB} MB`, worst && (() => ({
    measured: `${maxRss(worst).toFixed(0)} MB (${worst.tool}, ${worst.phase}, ${worst.rttMs} ms${worst.tls ? ' TLS' : ''}${worst.rate === null ? '' : ` capped`}, ${worst.corpus})`,
    met: maxRss(worst) <= RSS_LIMIT_MB,
  }))));

  // The large account (BENCH_LARGE=1) against the first 5,000 of it, and its reruns.
  for (const tool of [migrateDefault, backupMaildir]) {
    const large = find(tool, TLS, LARGE);
    const base = find(tool, TLS, LARGE_BASE);
    if (!large && !base) continue;
    checks.push(check(`${tool.name} peak RSS, ${LARGE.name} vs ${LARGE_BASE.name}, ${linkLabel(TLS)}`, '≤ +10%', large && base && (() => ({
      measured: `${maxRss(large).toFixed(0)} MB vs ${maxRss(base).toFixed(0)} MB`,
      met: maxRss(large) <= 1.1 * maxRss(base),
    }))));
    checks.push(check(`${tool.name} throughput, ${LARGE.name} / ${LARGE_BASE.name}, ${linkLabel(TLS)}`, '≥ 0.8', large && base && (() => {
      const x = messagesPerSecond(large) / messagesPerSecond(base);
      return { measured: `${x.toFixed(2)} (${messagesPerSecond(large).toFixed(0)} / ${messagesPerSecond(base).toFixed(0)} msg/s)`, met: x >= 0.8 };
    })));
    for (const phase of ['rerun', 'update'] as const) {
      const r = find(tool, TLS, LARGE, phase);
      const limit = LARGE_RERUN_S[phase];
      const what = phase === 'rerun' ? 'no-change rerun' : `rerun after ${NEW_MESSAGES} new messages`;
      checks.push(check(`${tool.name}, ${what}, ${linkLabel(TLS)}, ${LARGE.name}`, `≤ ${limit} s`, r && (() => ({ measured: `${medianWall(r).toFixed(2)} s`, met: medianWall(r) <= limit }))));
    }
  }
  return checks;
}

function onLink(r: Row, link: Link): boolean {
  return r.rttMs === link.rttMs && r.tls === link.tls && r.rate === (link.rate ?? null);
}

import type { ThroughputSample } from '../account-status.js';
import { escapeHtml } from './html-escape.js';
import { duration, rate } from './report-units.js';

export type ChartMetric = 'messages' | 'bytes';

/** One point of the chart: the rate over the interval that ends `elapsedMs` after the first sample. */
export interface RatePoint {
  elapsedMs: number;
  /** messages/s, or MB/s (10^6 bytes) for 'bytes' */
  perSecond: number;
}

/** More points than pixels only make the page heavy; longer campaigns are drawn over wider intervals. */
const MAX_POINTS = 400;

/**
 * The rates between the campaign's cumulative samples, in time order. Samples without a valid time
 * or at the same time as the previous one are left out; a counter that went down (it should not)
 * counts as 0, never as a negative rate.
 */
export function throughputRates(samples: readonly ThroughputSample[], metric: ChartMetric): RatePoint[] {
  const timed = samples
    .map((s) => ({ t: Date.parse(s.at), value: metric === 'messages' ? s.messages : s.bytes / 1e6 }))
    .filter((s) => Number.isFinite(s.t))
    .sort((a, b) => a.t - b.t);
  const first = timed[0];
  if (first === undefined) return [];
  const stride = Math.max(1, Math.ceil((timed.length - 1) / MAX_POINTS));
  const kept = timed.filter((_, i) => i % stride === 0 || i === timed.length - 1);
  const points: RatePoint[] = [];
  for (let i = 1; i < kept.length; i += 1) {
    const [a, b] = [kept[i - 1]!, kept[i]!];
    if (b.t <= a.t) continue;
    points.push({ elapsedMs: b.t - first.t, perSecond: Math.max(0, b.value - a.value) / ((b.t - a.t) / 1000) });
  }
  return points;
}

const WIDTH = 720;
const HEIGHT = 240;
const MARGIN = { left: 64, right: 20, top: 16, bottom: 40 };
const COLOURS: Record<ChartMetric, string> = { messages: '#1565c0', bytes: '#2e7d32' };
const UNITS: Record<ChartMetric, string> = { messages: 'messages/s', bytes: 'MB/s' };

/**
 * The throughput over time as an inline SVG, drawn now so the page shows it without scripts. With
 * fewer than two usable samples there is no rate to draw, and a paragraph says so.
 */
export function throughputChart(samples: readonly ThroughputSample[], metric: ChartMetric): string {
  const points = throughputRates(samples, metric);
  const unit = UNITS[metric];
  if (points.length === 0) return `<p class="no-chart">No ${unit} chart: fewer than two throughput samples.</p>`;
  const spanMs = Math.max(...points.map((p) => p.elapsedMs));
  const yMax = niceCeiling(Math.max(...points.map((p) => p.perSecond)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (ms: number): number => MARGIN.left + (spanMs === 0 ? 0 : (ms / spanMs) * plotW);
  const y = (v: number): number => MARGIN.top + plotH - (v / yMax) * plotH;
  const xs = points.map((p) => fixed(x(p.elapsedMs)));
  const xy = points.map((p, i) => `${xs[i]},${fixed(y(p.perSecond))}`);
  const base = fixed(y(0));
  const peak = Math.max(...points.map((p) => p.perSecond));
  const parts = [
    `<svg class="chart" data-metric="${metric}" data-points="${points.length}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(`${unit} over time, peak ${rate(peak)}`)}">`,
    `<title>${escapeHtml(`${unit} over time (peak ${rate(peak)})`)}</title>`,
  ];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const gy = fixed(y(yMax * f));
    parts.push(`<line class="grid" x1="${MARGIN.left}" y1="${gy}" x2="${WIDTH - MARGIN.right}" y2="${gy}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${gy}" text-anchor="end" dominant-baseline="middle">${rate(yMax * f)}</text>`);
    const gx = fixed(x(spanMs * f));
    const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
    parts.push(`<text x="${gx}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="${anchor}">${duration(spanMs * f)}</text>`);
  }
  parts.push(
    `<text x="${MARGIN.left}" y="${HEIGHT - 4}" class="axis-label">time since the first sample</text>`,
    `<text x="${MARGIN.left + 4}" y="${MARGIN.top + 10}" class="axis-label">${unit}</text>`,
    `<polygon class="area" points="${xs[0]},${base} ${xy.join(' ')} ${xs.at(-1)},${base}" fill="${COLOURS[metric]}" fill-opacity="0.15"/>`,
    `<polyline class="series" points="${xy.join(' ')}" fill="none" stroke="${COLOURS[metric]}" stroke-width="2" stroke-linejoin="round"/>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** The smallest 1, 2 or 5 × 10^k at or above `v` (1 for nothing), so the axis labels are round. */
function niceCeiling(v: number): number {
  if (!(v > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= v) return step * magnitude;
  return 10 * magnitude;
}

function fixed(n: number): string {
  return n.toFixed(1);
}

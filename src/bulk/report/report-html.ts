import { createHash } from 'node:crypto';
import type { AccountStatus, CampaignSnapshot } from '../account-status.js';
import { ACCOUNT_STATES } from '../account-status.js';
import { campaignTotals } from '../campaign-totals.js';
import { campaignSpan } from './campaign-span.js';
import { escapeHtml } from './html-escape.js';
import { failuresFirst, STATE_RANK } from './report-order.js';
import { byteSize, count, duration, rate } from './report-units.js';
import { TABLE_SORT_SCRIPT } from './table-sort-script.js';
import { throughputChart } from './throughput-chart.js';

interface Column {
  title: string;
  /** How the sort script compares the column's data-value. */
  sort: 'number' | 'text';
  value: (a: AccountStatus) => string | number | undefined;
  /** What the cell shows, when not the value itself. */
  show?: (a: AccountStatus) => string;
  /** The cells' class, when not 'number' for a number column. */
  className?: string;
}

const COLUMNS: readonly Column[] = [
  { title: 'Key', sort: 'text', value: (a) => a.key, className: 'key' },
  { title: 'ID', sort: 'text', value: (a) => a.id },
  { title: 'From', sort: 'text', value: (a) => a.from },
  { title: 'To', sort: 'text', value: (a) => a.to },
  { title: 'State', sort: 'number', value: (a) => STATE_RANK[a.state], show: (a) => a.state, className: 'state' },
  { title: 'Attempts', sort: 'number', value: (a) => a.attempts },
  { title: 'Messages', sort: 'number', value: (a) => a.messages, show: (a) => count(a.messages) },
  { title: 'Size', sort: 'number', value: (a) => a.bytes, show: (a) => byteSize(a.bytes) },
  { title: 'Duration', sort: 'number', value: (a) => a.durationMs, show: (a) => duration(a.durationMs) },
  { title: 'Started', sort: 'text', value: (a) => a.startedAt, className: 'time' },
  { title: 'Finished', sort: 'text', value: (a) => a.finishedAt, className: 'time' },
  { title: 'Exit', sort: 'number', value: (a) => a.exitCode },
  { title: 'Last error', sort: 'text', value: (a) => a.lastError, className: 'error' },
];

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.4em 0 .5em; }
code { font-family: ui-monospace, monospace; }
dl.totals { display: grid; grid-template-columns: max-content auto; gap: .2em 1.2em; margin: 0; }
dl.totals dt { font-weight: 600; } dl.totals dd { margin: 0; }
.failures li { margin: .3em 0; }
.error { font-family: ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: break-word; color: #a40000; }
td.error { min-width: 24em; } td.time, td.key { white-space: nowrap; }
.chart { max-width: 100%; height: auto; display: block; margin-bottom: 1em; }
.chart text { font-size: 11px; fill: #555; } .chart .axis-label { fill: #222; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
td.number { text-align: right; white-space: nowrap; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; }
th[aria-sort=ascending] button::after { content: " \\25B2"; } th[aria-sort=descending] button::after { content: " \\25BC"; }
tr.state-failed { background: #fde2e2; } tr.state-retrying { background: #fff3cd; }
tr.state-done td.state { color: #1b5e20; }
`;

/**
 * report.html: one static page (totals, failures, the throughput charts, the accounts table failures
 * first) that needs no network: CSS, script and SVG are inline, and its Content-Security-Policy
 * allows only that style and that script, by hash. Every value from the snapshot is escaped; the
 * policy is the second line of defence should a value ever slip through.
 */
export function reportHtml(snapshot: CampaignSnapshot): string {
  const title = `mailferry bulk ${snapshot.command}: ${snapshot.list}`;
  const policy = `default-src 'none'; style-src '${sha256(STYLE)}'; script-src '${sha256(TABLE_SORT_SCRIPT)}'; base-uri 'none'; form-action 'none'`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${policy}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(`mailferry bulk ${snapshot.command}`)}</h1>`,
    `<p>List <code>${escapeHtml(snapshot.list)}</code>, as of ${escapeHtml(snapshot.takenAt)}.</p>`,
    totalsSection(snapshot),
    failuresSection(snapshot.accounts),
    '<section id="throughput"><h2>Throughput</h2>',
    throughputChart(snapshot.throughput, 'messages'),
    throughputChart(snapshot.throughput, 'bytes'),
    '</section>',
    accountsSection(snapshot.accounts),
    `<script>${TABLE_SORT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function totalsSection(snapshot: CampaignSnapshot): string {
  const totals = campaignTotals(snapshot.accounts);
  const span = campaignSpan(snapshot);
  const rows: [string, string, string][] = [
    ['accounts', 'Accounts', count(totals.accounts)],
    ...ACCOUNT_STATES.map((s): [string, string, string] => [s, `\u2003${s}`, count(totals.byState[s])]),
    ['messages', 'Messages', count(totals.messages)],
    ['bytes', 'Size', `${byteSize(totals.bytes)} (${count(totals.bytes)} bytes)`],
    ['duration', 'Account time (all accounts together)', duration(totals.durationMs)],
  ];
  if (span !== undefined) {
    rows.push(['wall', 'Wall time', `${duration(span.wallMs)} (${span.startedAt} to ${span.endedAt})`]);
    if (span.wallMs > 0) rows.push(['rate', 'Mean rate', `${rate(totals.messages / (span.wallMs / 1000))} messages/s, ${rate(totals.bytes / 1e6 / (span.wallMs / 1000))} MB/s`]);
  }
  const items = rows.map(([id, label, value]) => `<dt>${escapeHtml(label)}</dt><dd data-total="${id}">${escapeHtml(value)}</dd>`);
  return `<section id="totals"><h2>Totals</h2><dl class="totals">\n${items.join('\n')}\n</dl></section>`;
}

/** Failed accounts, and those waiting to retry, each with its error line: what an admin acts on. */
function failuresSection(accounts: readonly AccountStatus[]): string {
  const failing = failuresFirst(accounts).filter((a) => a.state === 'failed' || a.state === 'retrying');
  if (failing.length === 0) return '<section id="failures"><h2>Failures</h2><p>None.</p></section>';
  const items = failing.map((a) => {
    const exit = a.exitCode === undefined ? '' : `, exit ${a.exitCode}`;
    const line = a.lastError === undefined ? '' : `: <span class="error">${escapeHtml(a.lastError)}</span>`;
    return `<li data-key="${escapeHtml(a.key)}"><code>${escapeHtml(a.key)}</code> (${escapeHtml(a.state)}${exit})${line}</li>`;
  });
  return `<section id="failures"><h2>Failures (${count(failing.length)})</h2><ul class="failures">\n${items.join('\n')}\n</ul></section>`;
}

function accountsSection(accounts: readonly AccountStatus[]): string {
  const head = COLUMNS.map((c) => `<th data-sort="${c.sort}"><button type="button">${escapeHtml(c.title)}</button></th>`).join('');
  const rows = failuresFirst(accounts).map((a) => {
    const cells = COLUMNS.map((c) => {
      const value = c.value(a);
      const shown = c.show?.(a) ?? (value === undefined ? '' : String(value));
      const cls = c.className ?? (c.sort === 'number' ? 'number' : '');
      const attrs = `${cls === '' ? '' : ` class="${cls}"`}${value === undefined ? '' : ` data-value="${escapeHtml(String(value))}"`}`;
      return `<td${attrs}>${escapeHtml(shown)}</td>`;
    });
    return `<tr class="state-${escapeHtml(a.state)}" data-key="${escapeHtml(a.key)}">${cells.join('')}</tr>`;
  });
  return [
    '<section id="accounts-section"><h2>Accounts</h2>',
    '<p>Click a column header to sort by it; click again to reverse.</p>',
    '<div class="table-wrap"><table id="accounts">',
    `<thead><tr>${head}</tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table></div></section>',
  ].join('\n');
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

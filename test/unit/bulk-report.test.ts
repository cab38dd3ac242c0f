import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AccountStatus, CampaignSnapshot } from '../../src/bulk/account-status.js';
import { campaignTotals } from '../../src/bulk/campaign-totals.js';
import { csvField } from '../../src/bulk/report/csv-field.js';
import { reportCsv } from '../../src/bulk/report/report-csv.js';
import { reportHtml } from '../../src/bulk/report/report-html.js';
import { reportJson } from '../../src/bulk/report/report-json.js';
import { throughputChart, throughputRates } from '../../src/bulk/report/throughput-chart.js';
import { writeReports } from '../../src/bulk/report/write-reports.js';
import { campaignSnapshot } from '../support/campaign-snapshot.js';

function account(over: Partial<AccountStatus> & Pick<AccountStatus, 'key'>): AccountStatus {
  return { from: `imaps://${over.key}@a.example/`, to: `imaps://${over.key}@b.example/`, state: 'done', attempts: 1, messages: 0, bytes: 0, durationMs: 0, checkpoint: `/c/${over.key}.sqlite`, log: `/c/${over.key}.log`, ...over };
}

function snapshotOf(accounts: AccountStatus[], throughput: CampaignSnapshot['throughput'] = []): CampaignSnapshot {
  return { command: 'migrate', list: '/lists/a.csv', takenAt: '2026-12-06T10:10:00.000Z', accounts, throughput };
}

describe('report.csv', () => {
  it('quotes a field holding a comma, a quote or a line break, doubling its quotes (RFC 4180)', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('INBOX, Sent')).toBe('"INBOX, Sent"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line one\nline two')).toBe('"line one\nline two"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(undefined)).toBe('');
    expect(csvField(0)).toBe('0');
  });

  it('puts an apostrophe before text a spreadsheet would run as a formula (= + - @ tab CR), quoting it where needed', () => {
    expect(csvField('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csvField('+1+2')).toBe("'+1+2");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('\r=1')).toBe(`"'\r=1"`);
    expect(csvField('a=1')).toBe('a=1');
  });

  it('has the documented header and one row per account in the snapshot order, seconds for durations', () => {
    const csv = reportCsv(snapshotOf([
      account({ key: 'k1', id: 'one', state: 'failed', attempts: 3, messages: 12, bytes: 3456, durationMs: 12_345, startedAt: '2026-12-06T10:00:00.000Z', finishedAt: '2026-12-06T10:00:12.345Z', exitCode: 3, lastError: '=cmd|"/c calc"!A0, on line\n2' }),
      account({ key: 'k2', state: 'queued', attempts: 0 }),
    ]));
    expect(csv).toBe([
      'key,id,from,to,state,attempts,messages,bytes,duration_s,started,finished,exit_code,last_error',
      `k1,one,imaps://k1@a.example/,imaps://k1@b.example/,failed,3,12,3456,12.345,2026-12-06T10:00:00.000Z,2026-12-06T10:00:12.345Z,3,"'=cmd|""/c calc""!A0, on line\n2"`,
      'k2,,imaps://k2@a.example/,imaps://k2@b.example/,queued,0,0,0,0,,,,',
      '',
    ].join('\r\n'));
  });
});

describe('report.json', () => {
  const snapshot = campaignSnapshot({ accounts: 12, failed: { 3: 'LOGIN failed' }, other: { 5: 'running', 6: 'queued' }, samples: 5 });

  it('carries campaignTotals as its totals and every account and sample of the snapshot', () => {
    const report = JSON.parse(reportJson(snapshot)) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(['report', 'version', 'command', 'list', 'takenAt', 'totals', 'span', 'accounts', 'throughput']);
    expect(report).toMatchObject({ report: 'mailferry-bulk', version: 1, command: 'migrate', list: snapshot.list, takenAt: snapshot.takenAt });
    expect(report.totals).toEqual(campaignTotals(snapshot.accounts));
    expect(report.throughput).toEqual(snapshot.throughput);
    const accounts = report.accounts as Record<string, unknown>[];
    expect(accounts.map((a) => a.key)).toEqual(snapshot.accounts.map((a) => a.key));
    accounts.forEach((a, i) => expect(Object.fromEntries(Object.entries(a).filter(([, v]) => v !== null))).toEqual(snapshot.accounts[i]));
  });

  it('gives every account the same keys in the same order, null where a value is absent', () => {
    const accounts = (JSON.parse(reportJson(snapshot)) as { accounts: Record<string, unknown>[] }).accounts;
    const keys = ['key', 'id', 'from', 'to', 'state', 'attempts', 'messages', 'bytes', 'durationMs', 'startedAt', 'finishedAt', 'exitCode', 'lastError', 'checkpoint', 'log', 'worker'];
    for (const a of accounts) expect(Object.keys(a)).toEqual(keys);
    const queued = accounts.find((a) => a.state === 'queued')!;
    expect([queued.startedAt, queued.finishedAt, queued.exitCode, queued.lastError, queued.worker]).toEqual([null, null, null, null, null]);
  });

  it('is the same text whatever order the store filled in the keys', () => {
    const shuffled: CampaignSnapshot = {
      throughput: snapshot.throughput.map((s) => ({ bytes: s.bytes, messages: s.messages, at: s.at })),
      accounts: snapshot.accounts.map((a) => Object.fromEntries(Object.entries(a).reverse()) as unknown as AccountStatus),
      takenAt: snapshot.takenAt,
      list: snapshot.list,
      command: snapshot.command,
    };
    expect(reportJson(shuffled)).toBe(reportJson(snapshot));
  });

  it('spans the campaign from its first start to its last finish or sample', () => {
    const report = JSON.parse(reportJson(snapshotOf([
      account({ key: 'a', startedAt: '2026-12-06T10:00:05.000Z', finishedAt: '2026-12-06T10:02:00.000Z' }),
      account({ key: 'b', startedAt: '2026-12-06T10:00:01.000Z', finishedAt: '2026-12-06T10:01:00.000Z' }),
    ], [{ at: '2026-12-06T10:03:00.000Z', messages: 0, bytes: 0 }]))) as { span: unknown };
    expect(report.span).toEqual({ startedAt: '2026-12-06T10:00:01.000Z', endedAt: '2026-12-06T10:03:00.000Z', wallMs: 179_000 });
    expect((JSON.parse(reportJson(snapshotOf([account({ key: 'q', state: 'queued' })]))) as { span: unknown }).span).toBeNull();
  });
});

describe('report.html', () => {
  const hostile = snapshotOf([
    account({ key: 'k<1>', state: 'failed', lastError: 'NO </td></tr><script>alert(1)</script> & more', exitCode: 3 }),
    account({ key: 'k2', from: 'imaps://u@h.example/?x="><img src=x onerror=alert(2)>', to: "/backups/it's" }),
  ]);
  hostile.list = '/lists/<b>.csv';
  const html = reportHtml(hostile);

  it('escapes every value from the snapshot: an error line with <script>, a URL with a quote', () => {
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('NO &lt;/td&gt;&lt;/tr&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(html).toContain('data-value="imaps://u@h.example/?x=&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"');
    expect(html).toContain('/backups/it&#39;s');
    expect(html).toContain('data-key="k&lt;1&gt;"');
  });

  it('allows only its own inline style and script, by hash, and loads nothing', () => {
    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    expect(policy).toBe(`default-src 'none'; style-src ${hash(style)}; script-src ${hash(script)}; base-uri 'none'; form-action 'none'`);
    // The page writes every attribute quoted, and a quote from the snapshot is &quot;.
    expect(html).not.toMatch(/\s(src|href)="/);
  });
});

describe('the throughput chart', () => {
  const at = (s: number): string => new Date(Date.UTC(2026, 11, 6, 10, 0, s)).toISOString();

  it('draws the rate between cumulative samples, in time order, skipping repeated times and never below 0', () => {
    const samples = [
      { at: at(10), messages: 30, bytes: 4_000_000 },
      { at: at(0), messages: 0, bytes: 0 },
      { at: at(10), messages: 31, bytes: 4_000_000 },
      { at: at(20), messages: 25, bytes: 5_000_000 },
      { at: 'not a time', messages: 99, bytes: 99 },
    ];
    expect(throughputRates(samples, 'messages')).toEqual([{ elapsedMs: 10_000, perSecond: 3 }, { elapsedMs: 20_000, perSecond: 0 }]);
    expect(throughputRates(samples, 'bytes')).toEqual([{ elapsedMs: 10_000, perSecond: 0.4 }, { elapsedMs: 20_000, perSecond: 0.1 }]);
  });

  it('draws a long campaign with at most 400 points, over wider intervals, keeping its totals', () => {
    const samples = Array.from({ length: 5001 }, (_, i) => ({ at: at(i), messages: i * 2, bytes: i * 1e6 }));
    const points = throughputRates(samples, 'messages');
    expect(points.length).toBeLessThanOrEqual(400);
    expect(points.at(-1)!.elapsedMs).toBe(5000_000);
    expect(points.every((p) => p.perSecond === 2)).toBe(true);
    expect(throughputChart(samples, 'bytes')).toContain(`data-points="${points.length}"`);
  });

  it('says so instead of drawing when fewer than two samples have a time', () => {
    expect(throughputChart([{ at: at(0), messages: 5, bytes: 5 }], 'messages')).toBe('<p class="no-chart">No messages/s chart: fewer than two throughput samples.</p>');
  });
});

describe('writeReports', () => {
  it('writes the three reports 0600 into a new 0700 directory, replacing older ones and leaving no temporary', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'mf-reports-'));
    onTestFinished(() => fs.rm(work, { recursive: true, force: true }));
    const dir = path.join(work, 'campaign', 'reports');
    const first = campaignSnapshot({ accounts: 3, failed: {}, samples: 3 });
    const paths = await writeReports(first, dir);
    expect(paths).toEqual({ json: path.join(dir, 'report.json'), csv: path.join(dir, 'report.csv'), html: path.join(dir, 'report.html') });
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    await fs.chmod(paths.html, 0o644);

    const second = campaignSnapshot({ accounts: 4, failed: { 1: 'LOGIN failed' }, samples: 3 });
    await writeReports(second, dir);
    expect((await fs.readdir(dir)).sort()).toEqual(['report.csv', 'report.html', 'report.json']);
    for (const file of Object.values(paths)) expect((await fs.stat(file)).mode & 0o777, file).toBe(0o600);
    expect(await fs.readFile(paths.json, 'utf8')).toBe(reportJson(second));
    expect(await fs.readFile(paths.csv, 'utf8')).toBe(reportCsv(second));
    expect(await fs.readFile(paths.html, 'utf8')).toBe(reportHtml(second));
  });
});

// report.html as an admin sees it: opened in headless Chromium (Debian package `chromium`, which
// CI's .ci/run installs), from a 50-account campaign with 2 failures and throughput samples.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountStatus } from '../src/bulk/account-status.js';
import { STATE_RANK } from '../src/bulk/report/report-order.js';
import { writeReports } from '../src/bulk/report/write-reports.js';
import { campaignSnapshot } from './support/campaign-snapshot.js';
import { CdpPage, chromiumMissing, dumpDom, screenshot } from './support/headless-chromium.js';
import { decodePng, distinctColours, pixelsNear } from './support/png.js';

const missing = chromiumMissing();
if (missing) console.warn(`test/bulk-report-chromium.test.ts skipped: ${missing}`);

/** Would set window.__pwned if the page ran anything from the snapshot. */
const HOSTILE_ERROR = 'LOGIN failed: <script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">';
const HOSTILE_URL = 'imaps://user05@old.example.org/?a="><script>window.__pwned = 3</script>';
const QUOTA_ERROR = 'NO [OVERQUOTA] Quota exceeded (mailbox for user is full)';
const snapshot = campaignSnapshot({ accounts: 50, failed: { 7: HOSTILE_ERROR, 31: QUOTA_ERROR }, samples: 41 });
snapshot.accounts[4]!.from = HOSTILE_URL;
const byKey = new Map(snapshot.accounts.map((a) => [a.key, a]));
const FAILED = ['acct-08', 'acct-32'];
const WIDTH = 1280;
const HEIGHT = 2000;

let work: string;
let url: string;

/** A stable sort of `keys` by `by`, as a click on a column header should leave the table. */
function sorted(keys: readonly string[], by: (a: AccountStatus) => number | string, ascending: boolean): string[] {
  const sign = ascending ? 1 : -1;
  return [...keys].sort((x, y) => {
    const [a, b] = [by(byKey.get(x)!), by(byKey.get(y)!)];
    return a === b ? 0 : (a < b ? -1 : 1) * sign;
  });
}

describe.skipIf(missing !== undefined)('report.html in headless Chromium', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mf-report-chromium-'));
    url = pathToFileURL((await writeReports(snapshot, work)).html).href;
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('after its script ran (--dump-dom): every account row, failures first, the totals, and both charts with their points', async () => {
    const dom = await dumpDom(url);
    const rows = [...dom.matchAll(/<tr class="state-(\w+)" data-key="([^"]*)">/g)].map((m) => ({ state: m[1], key: m[2] }));
    expect(rows).toHaveLength(50);
    expect(new Set(rows.map((r) => r.key))).toEqual(new Set(byKey.keys()));
    expect(rows.slice(0, 2)).toEqual(FAILED.map((key) => ({ state: 'failed', key })));
    expect(rows.slice(2).every((r) => r.state === 'done')).toBe(true);

    const total = (id: string): string | undefined => new RegExp(`<dd data-total="${id}">([^<]*)</dd>`).exec(dom)?.[1];
    expect([total('accounts'), total('done'), total('failed'), total('running')]).toEqual(['50', '48', '2', '0']);
    const messages = snapshot.accounts.reduce((s, a) => s + a.messages, 0);
    expect(total('messages')).toBe(messages.toLocaleString('en-US'));
    expect(total('wall')).toMatch(/^3 min 20 s /);

    // 41 cumulative samples: 40 intervals, each one point of each chart.
    for (const metric of ['messages', 'bytes']) {
      const svg = new RegExp(`<svg class="chart" data-metric="${metric}"[\\s\\S]*?</svg>`).exec(dom)?.[0] ?? '';
      const points = /<polyline class="series" points="([^"]+)"/.exec(svg)?.[1]?.split(' ') ?? [];
      expect(points, metric).toHaveLength(40);
      expect(points.every((p) => /^\d+(\.\d+)?,\d+(\.\d+)?$/.test(p))).toBe(true);
    }

    // The failure lines are shown as text, both in the failures list and in the table.
    const shownError = HOSTILE_ERROR.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
    expect(dom.split(shownError).length - 1).toBe(2);
    expect(dom).toContain(QUOTA_ERROR);
    expect(dom).not.toContain('<script>window.__pwned');
    expect(dom).not.toContain('<img');
  });

  it('a screenshot (--screenshot) shows the page: not blank, with the two charts and the failed rows drawn', async () => {
    const file = join(work, 'report.png');
    await screenshot(url, file, WIDTH, HEIGHT);
    const png = decodePng(readFileSync(file));
    expect([png.width, png.height]).toEqual([WIDTH, HEIGHT]);
    expect(distinctColours(png)).toBeGreaterThan(20);
    // The series' stroke colours and the failed rows' background (report-html.ts).
    expect(pixelsNear(png, '#1565c0'), 'messages/s line').toBeGreaterThan(300);
    expect(pixelsNear(png, '#2e7d32'), 'MB/s line').toBeGreaterThan(300);
    expect(pixelsNear(png, '#fde2e2', 3), 'failed rows').toBeGreaterThan(5000);
  });

  it('needs nothing from the network, runs nothing from the snapshot, and sorts its table on clicks', async () => {
    const page = await CdpPage.open(WIDTH, HEIGHT);
    try {
      await page.navigate(url);
      const requested = page.events.filter((e) => e.method === 'Network.requestWillBeSent').map((e) => (e.params!.request as { url: string }).url);
      expect(requested).toEqual([url]);
      const logged = page.events.filter((e) => e.method === 'Log.entryAdded' || e.method === 'Runtime.exceptionThrown' || e.method === 'Runtime.consoleAPICalled');
      expect(logged.map((e) => JSON.stringify(e.params))).toEqual([]);
      expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');

      // What is rendered, as text: every account and the two failure lines.
      const text = await page.evaluate<string>('document.body.innerText');
      for (const key of byKey.keys()) expect(text).toContain(key);
      expect(text).toContain(HOSTILE_ERROR);
      expect(text).toContain(HOSTILE_URL);

      const rows = (): Promise<string[]> => page.evaluate("Array.from(document.querySelectorAll('#accounts tbody tr'), (r) => r.dataset.key)");
      const titles = await page.evaluate<string[]>("Array.from(document.querySelectorAll('#accounts thead th'), (th) => th.textContent)");
      const clickHeader = async (title: string): Promise<string | null> => {
        const i = titles.indexOf(title);
        expect(i, title).toBeGreaterThanOrEqual(0);
        await page.click(`#accounts thead th:nth-child(${i + 1}) button`);
        return page.evaluate(`document.querySelector('#accounts thead th:nth-child(${i + 1})').getAttribute('aria-sort')`);
      };

      let order = await rows();
      expect(order.slice(0, 2)).toEqual(FAILED);
      // Each click: a column not sorted ascending sorts ascending; clicked again, descending.
      const clicks: [string, (a: AccountStatus) => number | string, boolean][] = [
        ['Size', (a) => a.bytes, true],
        ['Size', (a) => a.bytes, false],
        ['Duration', (a) => a.durationMs, true],
        ['State', (a) => STATE_RANK[a.state], true],
        ['State', (a) => STATE_RANK[a.state], false],
        ['From', (a) => a.from, true],
        ['Messages', (a) => a.messages, true],
        ['Messages', (a) => a.messages, false],
      ];
      for (const [title, by, ascending] of clicks) {
        expect(await clickHeader(title), title).toBe(ascending ? 'ascending' : 'descending');
        const expected = sorted(order, by, ascending);
        order = await rows();
        expect(order, `${title} ${ascending ? 'ascending' : 'descending'}`).toEqual(expected);
      }
    } finally {
      await page.close();
    }
  });
});

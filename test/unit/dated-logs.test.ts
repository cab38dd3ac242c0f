import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datedLogFile } from '../../src/reporting/dated-logs.js';

const logs = mkdtempSync(path.join(tmpdir(), 'mf-dated-logs-'));
const now = new Date(2026, 11, 6, 2, 30);

afterAll(async () => {
  await fs.rm(logs, { recursive: true, force: true });
});

describe("run's dated logs", () => {
  it("name today's file by the local date, in one directory per job", () => {
    expect(datedLogFile(logs, 'nightly', 30, now)).toBe(path.join(logs, 'nightly', '2026-12-06.jsonl'));
  });

  it.each([
    ['a/b', 'a%2Fb'],
    ['..', '%2E.'],
    ['.hidden', '%2Ehidden'],
    ['', '%'],
  ])('keep a job named %j inside the logs directory, as %s', (job, dir) => {
    expect(path.relative(logs, datedLogFile(logs, job, 30, now))).toBe(path.join(dir, '2026-12-06.jsonl'));
  });

  it('remove the dated files of the days before the last N, and nothing else', async () => {
    const dir = path.join(logs, 'keep');
    await fs.mkdir(dir);
    for (const name of ['2026-11-06.jsonl', '2026-11-07.jsonl', '2026-12-05.jsonl', 'notes.txt', '2026-01-01.json']) await fs.writeFile(path.join(dir, name), '');
    datedLogFile(logs, 'keep', 30, now);
    expect((await fs.readdir(dir)).sort()).toEqual(['2026-01-01.json', '2026-11-07.jsonl', '2026-12-05.jsonl', 'notes.txt']);
    datedLogFile(logs, 'keep', 1, now);
    expect((await fs.readdir(dir)).sort()).toEqual(['2026-01-01.json', 'notes.txt']);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/engine/events.js';
import { emptyReport } from '../../src/engine/report.js';
import { ConnectionError } from '../../src/errors/errors.js';
import { runCopyJob } from '../../src/jobs/copy-job.js';
import { ProgressModel } from '../../src/reporting/progress-model.js';
import { FaultStore } from '../support/fault-store.js';
import { MemoryStore } from '../support/memory-store.js';

const dir = mkdtempSync(join(tmpdir(), 'mf-progress-'));

/** The events of a real engine run, copying `source` into `dest`. */
async function engineEvents(source: MemoryStore, dest: MemoryStore | FaultStore, state: string, connections = 2): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  await runCopyJob({
    command: 'test', source, dest, statePath: join(dir, state), retryDelayMs: 1,
    selection: { include: [], exclude: [], map: [] }, filter: {}, syncFlags: true, connections, dryRun: false,
    emit: (e) => events.push(e),
  });
  return events;
}

describe('the progress model, fed with the engine events', () => {
  it('after a retry a folder still counts to its own size (0/6 does not become 0/12), and every folder ends N/N', async () => {
    const source = new MemoryStore('mem://source');
    for (let i = 0; i < 6; i++) source.add('INBOX', `Subject: ${i}\r\n\r\nbody ${i}\r\n`);
    for (let i = 0; i < 3; i++) source.add('Small', `Subject: small ${i}\r\n\r\nx\r\n`);
    // The connection breaks after INBOX's third message is stored but before its answer comes (one
    // connection, so INBOX, the bigger folder, goes first and the steps are all its own).
    const dest = new FaultStore(new MemoryStore('mem://dest'), 6, () => new ConnectionError('connection reset'));
    const events = await engineEvents(source, dest, 'retry.sqlite', 1);
    expect(events.filter((e) => e.type === 'folder-start' && e.source === 'INBOX')).toHaveLength(2);

    const model = new ProgressModel();
    const seen: Array<{ messages: number; total: number }> = [];
    for (const e of events) {
      model.apply(e);
      seen.push({ messages: model.total().messages, total: model.total().totalMessages });
    }
    expect(Math.max(...seen.map((s) => s.total))).toBe(9);
    expect(seen.every((s) => s.messages <= s.total)).toBe(true);
    expect(model.folderProgress('INBOX')).toMatchObject({ messages: 6, totalMessages: 6, finished: true });
    expect(model.folderProgress('Small')).toMatchObject({ messages: 3, totalMessages: 3, finished: true });
    expect(model.total()).toMatchObject({ messages: 9, totalMessages: 9, counting: 0 });
  });

  it('counts each message as its APPEND is answered where the store answers one at a time, not per batch', async () => {
    const source = new MemoryStore('mem://source');
    for (let i = 0; i < 5; i++) source.add('INBOX', `Subject: ${i}\r\n\r\nbody ${i}\r\n`);
    const events = await engineEvents(source, new FaultStore(new MemoryStore('mem://dest')), 'each.sqlite');
    const steps = events.flatMap((e) => (e.type === 'progress' && e.source === 'INBOX' ? [e.messages] : []));
    expect(steps).toEqual([1, 1, 1, 1, 1]);
  });

  it('counts messages as they are settled: a rerun with nothing new ends 0/0, a folder found already there counts up too', async () => {
    const source = new MemoryStore('mem://source');
    for (let i = 0; i < 4; i++) source.add('INBOX', `Subject: ${i}\r\n\r\nbody ${i}\r\n`);
    const dest = new MemoryStore('mem://dest');
    await engineEvents(source, dest, 'first.sqlite');
    // A lost checkpoint: every message is found at the destination by content, none copied.
    const model = new ProgressModel();
    for (const e of await engineEvents(source, dest, 'lost.sqlite')) model.apply(e);
    expect(model.folderProgress('INBOX')).toMatchObject({ messages: 4, totalMessages: 4 });
    const again = new ProgressModel();
    for (const e of await engineEvents(source, dest, 'lost.sqlite')) again.apply(e);
    expect(again.total()).toMatchObject({ messages: 0, totalMessages: 0, counting: 0 });
  });

  it('says "counting" (no ETA) until every folder has started, never grows the total, and weighs bytes in the ETA', () => {
    let now = 0;
    const model = new ProgressModel(() => now);
    model.apply({ type: 'plan', folders: 3, messages: 30, bytes: 0, sources: [{ source: 'A', messages: 10 }, { source: 'B', messages: 10 }, { source: 'C', messages: 10 }] });
    expect(model.total()).toMatchObject({ totalMessages: 30, counting: 3 });
    model.apply({ type: 'folder-start', source: 'A', destination: 'A', messages: 10, bytes: 10e6 });
    now = 10_000;
    model.apply({ type: 'progress', source: 'A', messages: 5, bytes: 5e6 });
    expect(model.total()).toMatchObject({ messages: 5, totalMessages: 30, counting: 2 });
    expect(model.total().etaSeconds).toBeUndefined();
    // C has nothing new: it finishes without starting, and is counted.
    model.apply({ type: 'folder-done', report: emptyReport('C', 'C') });
    model.apply({ type: 'folder-start', source: 'B', destination: 'B', messages: 2, bytes: 100e3 });
    const t = model.total();
    expect(t).toMatchObject({ messages: 5, totalMessages: 12, totalBytes: 10.1e6, counting: 0 });
    // 5 MB and 5 messages took 10 s; 5.1 MB and 7 messages are left: about 10.5 s, not the 14 s messages alone say.
    const unit = 64 * 1024;
    expect(t.etaSeconds).toBeCloseTo((10 * (5.1e6 + 7 * unit)) / (5e6 + 5 * unit), 6);
    expect(t.etaSeconds).toBeLessThan(11);
  });
});

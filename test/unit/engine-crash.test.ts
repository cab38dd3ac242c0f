import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCopyJob } from '../../src/jobs/copy-job.js';
import type { Store } from '../../src/stores/store.js';
import { MemoryStore } from '../support/memory-store.js';
import { FaultStore, SimulatedCrash } from '../support/fault-store.js';
import { ConnectionError } from '../../src/errors/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'mf-crash-'));

function sourceAccount(): MemoryStore {
  const s = new MemoryStore('mem://source');
  for (const folder of ['INBOX', 'Work', 'Work/Old']) {
    for (let i = 0; i < 6; i++) s.add(folder, `Subject: ${folder} ${i}\r\n\r\nbody ${i}\r\n`, i % 2 ? ['\\Seen'] : ['$Label1']);
  }
  // An exact duplicate must stay two copies.
  s.add('INBOX', 'Subject: twin\r\n\r\nsame\r\n');
  s.add('INBOX', 'Subject: twin\r\n\r\nsame\r\n');
  return s;
}

function copy(source: Store, dest: Store, state: string, retryDelayMs?: number) {
  return runCopyJob({
    retryDelayMs,
    command: 'test', source, dest, statePath: join(dir, state),
    selection: { include: [], exclude: [], map: [] }, filter: {}, syncFlags: true, connections: 3, dryRun: false,
    // Small enough that folders are split into parallel UID ranges, so crashes hit concurrent appends.
    minMessagesPerRange: 3,
    emit: () => undefined,
  });
}

describe('the engine survives a crash at every step', () => {
  it('never loses or duplicates a message, whichever APPEND step the crash hits', async () => {
    const source = sourceAccount();
    const probe = new FaultStore(new MemoryStore('mem://dest'));
    await copy(source, probe, 'probe.sqlite');
    const steps = probe.steps;
    expect(steps).toBe(2 * 20);

    for (let k = 1; k <= steps; k++) {
      const dest = new MemoryStore('mem://dest');
      await expect(copy(source, new FaultStore(dest, k), `k${k}.sqlite`)).rejects.toBeInstanceOf(SimulatedCrash);
      // A second crash during the resume, then a clean run.
      await copy(source, new FaultStore(dest, 1 + (k % 7)), `k${k}.sqlite`).catch((e) => expect(e).toBeInstanceOf(SimulatedCrash));
      const result = await copy(source, dest, `k${k}.sqlite`);
      expect(result.exit).toBe('ok');
      expect(dest.contents(), `crash at step ${k}`).toEqual(source.contents());
    }
  });

  it('also during an incremental run, where only the journal tells what may have landed', async () => {
    for (let k = 1; k <= 2 * 7; k++) {
      const source = sourceAccount();
      const dest = new MemoryStore('mem://dest');
      await copy(source, dest, `inc${k}.sqlite`);
      for (const folder of ['INBOX', 'Work/Old']) for (let i = 0; i < 3; i++) source.add(folder, `Subject: later ${i}\r\n\r\nx\r\n`);
      source.add('INBOX', 'Subject: twin\r\n\r\nsame\r\n');
      await expect(copy(source, new FaultStore(dest, k), `inc${k}.sqlite`)).rejects.toBeInstanceOf(SimulatedCrash);
      await copy(source, dest, `inc${k}.sqlite`);
      expect(dest.contents(), `crash at step ${k}`).toEqual(source.contents());
    }
  });

  it('splits a big folder over idle connections, and a crash in either range loses and duplicates nothing', async () => {
    const single = new MemoryStore('mem://source');
    for (let i = 0; i < 12; i++) single.add('INBOX', `Subject: ${i}\r\n\r\n${i % 5}\r\n`, i % 3 ? [] : ['\\Seen']);
    const probe = new MemoryStore('mem://dest');
    await copy(single, probe, 'split-probe.sqlite');
    expect(single.maxOpen).toBe(3);
    for (let k = 1; k <= 2 * 12; k++) {
      const dest = new MemoryStore('mem://dest');
      await expect(copy(single, new FaultStore(dest, k), `split${k}.sqlite`)).rejects.toBeInstanceOf(SimulatedCrash);
      await copy(single, dest, `split${k}.sqlite`);
      expect(dest.contents(), `crash at step ${k}`).toEqual(single.contents());
    }
  });

  it('retries a folder whose connection broke, and still reports every message copied', async () => {
    const source = new MemoryStore('mem://source');
    for (let i = 0; i < 300; i++) source.add('INBOX', `Subject: ${i}\r\n\r\nbody ${i}\r\n`);
    const dest = new MemoryStore('mem://dest');
    // Two APPEND steps a message: this breaks the connection in the second batch of 250.
    const result = await copy(source, new FaultStore(dest, 2 * 260, () => new ConnectionError('connection reset')), 'retry.sqlite', 1);
    expect(result.exit).toBe('ok');
    expect(result.totals.copied + result.totals.present).toBe(300);
    expect(dest.contents()).toEqual(source.contents());
  });

  it('a rerun after success changes nothing, and a lost checkpoint copies nothing twice', async () => {
    const source = sourceAccount();
    const dest = new MemoryStore('mem://dest');
    await copy(source, dest, 'rerun.sqlite');
    const again = await copy(source, dest, 'rerun.sqlite');
    expect(again.totals).toMatchObject({ copied: 0, present: 0 });
    const lost = await copy(source, dest, 'other.sqlite');
    expect(lost.totals).toMatchObject({ copied: 0, present: 20 });
    expect(dest.contents()).toEqual(source.contents());
  });

  it('carries flag changes and new messages on a rerun', async () => {
    const source = sourceAccount();
    const dest = new MemoryStore('mem://dest');
    await copy(source, dest, 'flags.sqlite');
    source.folders.get('Work')!.messages.get(1)!.flags = ['\\Flagged'];
    source.add('Work', 'Subject: late\r\n\r\nnew\r\n');
    const rerun = await copy(source, dest, 'flags.sqlite');
    expect(rerun.totals).toMatchObject({ copied: 1, flagsUpdated: 1 });
    expect(dest.contents()).toEqual(source.contents());
  });

  it('a source UIDVALIDITY change re-matches by content', async () => {
    const source = sourceAccount();
    const dest = new MemoryStore('mem://dest');
    await copy(source, dest, 'uv.sqlite');
    source.folders.get('Work')!.uidValidity = 4242;
    const rerun = await copy(source, dest, 'uv.sqlite');
    expect(rerun.totals.copied).toBe(0);
    expect(dest.contents()).toEqual(source.contents());
  });
});

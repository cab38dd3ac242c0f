import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCopyJob } from '../../src/jobs/copy-job.js';
import type { Store } from '../../src/stores/store.js';
import { MemoryStore } from '../support/memory-store.js';
import { FaultStore, SimulatedCrash } from '../support/fault-store.js';

const dir = mkdtempSync(join(tmpdir(), 'mf-search-rerun-'));

function copy(source: Store, dest: Store, state: string, search: string) {
  return runCopyJob({
    command: 'test', source, dest, statePath: join(dir, state),
    selection: { include: [], exclude: [], map: [] }, filter: { search }, syncFlags: true, connections: 1, dryRun: false,
    emit: () => undefined,
  });
}

/** The memory store's search matches text in the message, so these name who sent it. */
function message(who: string, i: number): string {
  return `From: ${who}\r\nSubject: ${who} ${i}\r\n\r\nbody\r\n`;
}

function only(store: MemoryStore, ...who: string[]): string[] {
  return (store.contents().INBOX ?? []).filter((m) => who.some((w) => m.startsWith(`From: ${w}\r\n`)));
}

describe('a change of search criteria, cut short by a crash at any APPEND', () => {
  it('loses nothing the later criteria select: each message is judged again until a pass with one set of criteria is through', async () => {
    for (let k = 1; k <= 2 * 6; k++) {
      const source = new MemoryStore('mem://source');
      for (let i = 0; i < 4; i++) for (const who of ['alice', 'bob', 'carol']) source.add('INBOX', message(who, i));
      const dest = new MemoryStore('mem://dest');
      const state = `k${k}.sqlite`;
      await copy(source, dest, state, 'From: alice');
      // New mail after the first pass: the run with other criteria judges it first.
      for (let i = 4; i < 6; i++) for (const who of ['alice', 'bob']) source.add('INBOX', message(who, i));

      await expect(copy(source, new FaultStore(dest, k), state, 'From: bob')).rejects.toBeInstanceOf(SimulatedCrash);
      // Back to the first criteria: the new alice messages were judged by the other criteria only.
      expect((await copy(source, dest, state, 'From: alice')).exit).toBe('ok');
      expect(only(dest, 'alice'), `crash at step ${k}`).toEqual(only(source, 'alice'));

      // The run with the first criteria finished the APPENDs the crash cut short, so this one may have none left.
      await copy(source, new FaultStore(dest, k), state, 'From: bob').catch((e) => expect(e).toBeInstanceOf(SimulatedCrash));
      expect((await copy(source, dest, state, 'From: bob')).exit).toBe('ok');
      expect(dest.contents().INBOX, `crash at step ${k}`).toEqual(only(source, 'alice', 'bob'));
    }
  });
});

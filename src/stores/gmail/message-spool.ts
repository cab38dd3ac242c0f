import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateTempDir } from '../local/private-temp.js';

/**
 * Raw messages that more folders of this run will want, kept on disk by the server's message id
 * so that a message Gmail shows in several label folders is downloaded once. A private 0700
 * directory of 0600 files, removed by `close()`; one left by a killed run is removed by the next.
 *
 * A message being fetched by one folder is *in flight*: another folder that wants it waits for
 * that fetch rather than starting a second download.
 */
export class MessageSpool {
  private dir?: Promise<string>;
  private readonly stored = new Map<string, { file: string; uses: number }>();
  private readonly inFlight = new Map<string, { done: Promise<void>; resolve: () => void }>();
  private count = 0;

  constructor(private readonly root = tmpdir()) {}

  /** Marks `id` as being fetched by the caller; false when it is stored or someone else fetches it. */
  claim(id: string): boolean {
    if (this.stored.has(id) || this.inFlight.has(id)) return false;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.inFlight.set(id, { done, resolve });
    return true;
  }

  /** Waits for a fetch in flight, if any. */
  async settled(id: string): Promise<void> {
    await this.inFlight.get(id)?.done;
  }

  /** The claimed fetch arrived: keep it for `uses` more readers (none: nothing is written). */
  async put(id: string, raw: Buffer, uses: number): Promise<void> {
    try {
      if (uses > 0 && !this.stored.has(id)) {
        const file = join(await (this.dir ??= privateTempDir('spool', this.root)), String(++this.count));
        await writeFile(file, raw, { mode: 0o600 });
        this.stored.set(id, { file, uses });
      }
    } finally {
      this.release(id);
    }
  }

  /** The claimed fetch did not bring the message (error, expunged): waiters fetch it themselves. */
  release(id: string): void {
    const flight = this.inFlight.get(id);
    this.inFlight.delete(id);
    flight?.resolve();
  }

  /** The stored copy, used once; undefined when there is none. */
  async take(id: string): Promise<Buffer | undefined> {
    const entry = this.stored.get(id);
    if (!entry) return undefined;
    const raw = await readFile(entry.file);
    if (--entry.uses <= 0) {
      this.stored.delete(id);
      await rm(entry.file, { force: true });
    }
    return raw;
  }

  async close(): Promise<void> {
    for (const id of [...this.inFlight.keys()]) this.release(id);
    this.stored.clear();
    const dir = await this.dir?.catch(() => undefined);
    this.dir = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

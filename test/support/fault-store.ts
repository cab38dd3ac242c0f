import type { AppendRequest, FolderInfo } from '../../src/domain/types.js';
import type { AppendOutcome, CreateFolderOptions, FolderHandle, Store } from '../../src/stores/store.js';

/** Thrown where a real run would have died: the engine must not treat it as anything it knows. */
export class SimulatedCrash extends Error {}

/**
 * Wraps a destination store and dies at step k. Each message's APPEND is two steps: just before it
 * is sent, and just after the store took it but before the engine hears back (the "lost answer"
 * that makes naive tools duplicate). `steps` counts them in a clean run.
 */
export class FaultStore implements Store {
  steps = 0;

  constructor(
    private readonly inner: Store,
    private readonly crashAt = Infinity,
    /** What to fail with at that step: a crash (default), or e.g. a broken connection the engine retries. */
    private readonly failure: () => Error = () => new SimulatedCrash(`crash at step ${crashAt}`),
  ) {}

  get caps() {
    return this.inner.caps;
  }
  get label() {
    return this.inner.label;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  listFolders(): Promise<FolderInfo[]> {
    return this.inner.listFolders();
  }
  createFolder(components: string[], options: CreateFolderOptions): Promise<FolderInfo> {
    return this.inner.createFolder(components, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  async openFolder(name: string, mode: 'read' | 'write'): Promise<FolderHandle> {
    const handle = await this.inner.openFolder(name, mode);
    const step = (): void => {
      if (++this.steps === this.crashAt) throw this.failure();
    };
    return {
      status: handle.status,
      permanentFlags: handle.permanentFlags,
      scan: (range) => handle.scan(range),
      fetch: (uids) => handle.fetch(uids),
      setFlags: (uid, flags) => handle.setFlags(uid, flags),
      close: () => handle.close(),
      // One message at a time, each answer told as it comes, as an IMAP server without MULTIAPPEND.
      append: async (messages: AppendRequest[], answered?: (index: number) => void): Promise<AppendOutcome[]> => {
        const out: AppendOutcome[] = [];
        for (const [i, m] of messages.entries()) {
          step();
          out.push(...(await handle.append([m])));
          step();
          answered?.(i);
        }
        return out;
      },
    };
  }
}

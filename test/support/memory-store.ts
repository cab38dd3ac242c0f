import type { AppendRequest, FolderInfo, MessageData, MessageMeta } from '../../src/domain/types.js';
import type { AppendOutcome, CreateFolderOptions, FolderHandle, ScanRange, Store, StoreCaps } from '../../src/stores/store.js';

interface MemoryMessage {
  raw: Buffer;
  flags: string[];
  internalDate: Date;
}

interface MemoryFolder {
  uidValidity: number;
  uidNext: number;
  messages: Map<number, MemoryMessage>;
}

/**
 * A complete in-memory Store for engine tests: the engine's logic is exercised without a server,
 * and faults can be injected at exact steps. Behaviour tests still use the real Dovecot.
 */
export class MemoryStore implements Store {
  readonly folders = new Map<string, MemoryFolder>();
  /** Most folder handles open at once: shows whether work ran in parallel. */
  maxOpen = 0;
  private open = 0;
  private nextValidity = 1000;

  constructor(
    readonly label: string,
    readonly caps: StoreCaps = { returnsUidOnAppend: true, changedSince: false },
  ) {
    this.ensure('INBOX');
  }

  ensure(name: string): MemoryFolder {
    let f = this.folders.get(name);
    if (!f) {
      f = { uidValidity: this.nextValidity++, uidNext: 1, messages: new Map() };
      this.folders.set(name, f);
    }
    return f;
  }

  add(name: string, raw: string, flags: string[] = [], date = new Date('2020-01-01T00:00:00Z')): void {
    const f = this.ensure(name);
    f.messages.set(f.uidNext++, { raw: Buffer.from(raw), flags, internalDate: date });
  }

  /** Every folder's messages as sorted "raw|flags|date" strings: a multiset to compare. */
  contents(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, f] of this.folders) {
      out[name] = [...f.messages.values()].map((m) => `${m.raw.toString()}|${[...m.flags].sort().join(' ')}|${m.internalDate.toISOString()}`).sort();
    }
    return out;
  }

  async connect(): Promise<void> {}

  async listFolders(): Promise<FolderInfo[]> {
    return [...this.folders.entries()].map(([name, f]) => ({
      name,
      components: name.split('/'),
      delimiter: '/',
      subscribed: true,
      status: { uidValidity: f.uidValidity, uidNext: f.uidNext, messages: f.messages.size },
    }));
  }

  async createFolder(components: string[], _options: CreateFolderOptions): Promise<FolderInfo> {
    const name = components.join('/');
    this.ensure(name);
    return (await this.listFolders()).find((f) => f.name === name)!;
  }

  async openFolder(name: string): Promise<FolderHandle> {
    const f = this.folders.get(name);
    if (!f) throw new Error(`no folder ${name}`);
    this.maxOpen = Math.max(this.maxOpen, ++this.open);
    return new MemoryHandle(f, () => void this.open--);
  }

  async close(): Promise<void> {}
}

class MemoryHandle implements FolderHandle {
  readonly status;

  constructor(
    private readonly f: MemoryFolder,
    private readonly onClose: () => void,
  ) {
    this.status = { uidValidity: f.uidValidity, uidNext: f.uidNext, messages: f.messages.size };
  }

  async scan(range: ScanRange): Promise<MessageMeta[]> {
    const wanted = range.uids ? new Set(range.uids) : undefined;
    return [...this.f.messages.entries()]
      .filter(([uid]) => uid >= (range.fromUid ?? 1) && (!wanted || wanted.has(uid)))
      .sort(([a], [b]) => a - b)
      .map(([uid, m]) => ({ uid, size: m.raw.length, flags: [...m.flags], internalDate: m.internalDate }));
  }

  /** Criteria are text the raw message must hold: enough for the engine's tests of search skips. */
  async search(criteria: string): Promise<number[]> {
    return [...this.f.messages.entries()].filter(([, m]) => m.raw.toString().includes(criteria)).map(([uid]) => uid);
  }

  async *fetch(uids: number[]): AsyncIterable<MessageData> {
    for (const uid of [...uids].sort((a, b) => a - b)) {
      const m = this.f.messages.get(uid);
      if (m) yield { uid, size: m.raw.length, flags: [...m.flags], internalDate: m.internalDate, raw: m.raw };
    }
  }

  async append(messages: AppendRequest[]): Promise<AppendOutcome[]> {
    return messages.map((m) => {
      const uid = this.f.uidNext++;
      this.f.messages.set(uid, { raw: Buffer.from(m.raw), flags: [...m.flags], internalDate: m.internalDate });
      return { ok: true, uid };
    });
  }

  async setFlags(uid: number, flags: string[]): Promise<void> {
    const m = this.f.messages.get(uid);
    if (m) m.flags = [...flags];
  }

  async close(): Promise<void> {
    this.onClose();
  }
}

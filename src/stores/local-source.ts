import { headerValue } from '../domain/headers.js';
import type { FolderInfo, FolderStatus, MessageData, MessageMeta } from '../domain/types.js';
import { batches } from '../engine/batches.js';
import { UsageError } from '../errors/errors.js';
import type { AppendOutcome, FolderHandle, ScanRange, Store, StoreCaps } from './store.js';

/** What a read-only side must offer of a folder handle. */
export type ReadableFolder = Pick<FolderHandle, 'status' | 'scan' | 'fetch' | 'close'>;

/** What a read-only side must offer of a store. */
export interface ReadableTree {
  listFolders(): Promise<FolderInfo[]>;
  openFolder(name: string, mode: 'read'): Promise<ReadableFolder>;
}

export interface OpenedTree {
  tree: ReadableTree;
  /** Runs when the store is closed (an archive's extraction directory is removed). */
  dispose?: () => Promise<void>;
}

/** Bodies read at once while looking for Message-IDs. */
const MESSAGE_ID_BATCH_BYTES = 16 << 20;

/**
 * A side on disk given to --from or --to as a path: a backup directory, a backup archive, or mail
 * other programs wrote. Always read-only: mailferry writes backups only through `backup`, and
 * never into mail it did not write, so creating a folder or opening one for writing is refused.
 * The tree is opened on `connect` (an archive is extracted then, not when the command line is
 * read) and disposed of on `close`.
 */
export class LocalSource implements Store {
  readonly caps: StoreCaps = { returnsUidOnAppend: false, changedSince: false };
  private opened?: Promise<OpenedTree>;

  constructor(
    /** Names the side in reports and keys its checkpoint: the kind and the absolute path. */
    readonly label: string,
    private readonly open: () => Promise<OpenedTree>,
  ) {}

  async connect(): Promise<void> {
    this.opened ??= this.open();
    await this.opened;
  }

  async listFolders(): Promise<FolderInfo[]> {
    return (await this.tree()).listFolders();
  }

  async createFolder(components: string[]): Promise<FolderInfo> {
    throw this.readOnly(`cannot create folder ${components.join('/')}`);
  }

  async openFolder(name: string, mode: 'read' | 'write'): Promise<FolderHandle> {
    if (mode === 'write') throw this.readOnly(`cannot write to ${name}`);
    return new ReadOnlyHandle(await (await this.tree()).openFolder(name, 'read'), this.label);
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    await (await opened?.catch(() => undefined))?.dispose?.();
  }

  private async tree(): Promise<ReadableTree> {
    if (!this.opened) throw new Error(`${this.label} used before connect()`);
    return (await this.opened).tree;
  }

  private readOnly(what: string): UsageError {
    return new UsageError(`${this.label} is read-only: ${what}`);
  }
}

class ReadOnlyHandle implements FolderHandle {
  constructor(
    private readonly folder: ReadableFolder,
    private readonly label: string,
  ) {}

  get status(): FolderStatus {
    return this.folder.status;
  }

  /** Files keep no Message-ID index: with `messageIds` (verify --quick), each header is read. */
  async scan(range: ScanRange): Promise<MessageMeta[]> {
    const metas = await this.folder.scan({ ...range, messageIds: false });
    if (!range.messageIds) return metas;
    const ids = new Map<number, string>();
    for (const chunk of batches(metas, 500, MESSAGE_ID_BATCH_BYTES)) {
      for await (const m of this.folder.fetch(chunk.map((c) => c.uid))) {
        const id = headerValue(m.raw, 'message-id');
        if (id) ids.set(m.uid, id);
      }
    }
    return metas.map((m) => (ids.has(m.uid) ? { ...m, messageId: ids.get(m.uid) } : m));
  }

  fetch(uids: number[]): AsyncIterable<MessageData> {
    return this.folder.fetch(uids);
  }

  async append(): Promise<AppendOutcome[]> {
    throw new UsageError(`${this.label} is read-only`);
  }

  async setFlags(): Promise<void> {
    throw new UsageError(`${this.label} is read-only`);
  }

  close(): Promise<void> {
    return this.folder.close();
  }
}

import type { FolderInfo } from '../../domain/types.js';
import type { CreateFolderOptions, FolderHandle, ScanRange, Store, StoreCaps } from '../store.js';
import { GmailFolderView, type SeenMessages } from './gmail-folder-view.js';
import { presentFolders, type FolderRole, type GmailLabelMode, type GmailLabelOption } from './gmail-labels.js';
import { MessageSpool } from './message-spool.js';

/**
 * A source store as its messages should be copied when the server has Gmail's labels
 * (X-GM-EXT-1): one message shows in every label folder and in All Mail, so copied folder by
 * folder it would be downloaded once per label and archived mail would be copied twice or not at
 * all. The view decides, per `--gmail-labels` mode, which folders are shown and which of their
 * messages, and serves a message wanted by several folders from a local spool after its first
 * download. A server without X-GM-EXT-1 is passed through untouched.
 */
export class GmailLabelView implements Store {
  private mode?: GmailLabelMode;
  private roles = new Map<string, FolderRole>();
  private readonly seen: SeenMessages = new Map();
  private readonly spool = new MessageSpool();

  constructor(
    private readonly inner: Store,
    private readonly option: GmailLabelOption,
  ) {}

  get caps(): StoreCaps {
    return this.inner.caps;
  }
  get label(): string {
    return this.inner.label;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  warm(connections: number): void {
    this.inner.warm?.(connections);
  }

  async listFolders(target?: StoreCaps): Promise<FolderInfo[]> {
    const folders = await this.inner.listFolders();
    if (!this.inner.caps.labels) return folders;
    this.mode = this.option === 'auto' ? (target?.labels ? 'labels' : 'folders') : this.option;
    const shown = presentFolders(folders, this.mode);
    this.roles = new Map(shown.map((s) => [s.folder.name, s.role]));
    return shown.map((s) => s.folder);
  }

  createFolder(components: string[], options: CreateFolderOptions): Promise<FolderInfo> {
    return this.inner.createFolder(components, options);
  }

  async openFolder(name: string, mode: 'read' | 'write', next?: ScanRange): Promise<FolderHandle> {
    // A folder view hands its scans to the folder as they are.
    const handle = await this.inner.openFolder(name, mode, next);
    const role = this.roles.get(name);
    if (!this.mode || !role || mode === 'write') return handle;
    let seen = this.seen.get(name);
    if (!seen) this.seen.set(name, (seen = new Map()));
    return new GmailFolderView(handle, this.mode, role, seen, this.spool);
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      await this.spool.close();
    }
  }
}

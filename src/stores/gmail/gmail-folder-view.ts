import type { MessageData, MessageMeta } from '../../domain/types.js';
import { DelegatingHandle } from '../delegating-handle.js';
import type { FolderHandle, ScanRange } from '../store.js';
import { isArchivedOnly, presentMessage, viewCount, type FolderRole, type GmailLabelMode } from './gmail-labels.js';
import type { MessageSpool } from './message-spool.js';

/** Per folder name, what scans of it found: a fetch on another connection knows each UID's message id. */
export type SeenMessages = Map<string, Map<number, MessageMeta>>;

/**
 * One Gmail folder as the label view shows it: the Archive view keeps only mail no other shown
 * folder has, keywords mode adds labels as keywords, and a message another folder already
 * downloaded (or is downloading) is read from the spool instead of the server.
 */
export class GmailFolderView extends DelegatingHandle {
  constructor(
    inner: FolderHandle,
    private readonly mode: GmailLabelMode,
    private readonly role: FolderRole,
    private readonly seen: Map<number, MessageMeta>,
    private readonly spool: MessageSpool,
  ) {
    super(inner);
  }

  override async scan(range: ScanRange): Promise<MessageMeta[]> {
    const metas = await this.inner.scan(range);
    for (const m of metas) this.seen.set(m.uid, m);
    return metas.filter((m) => this.shows(m)).map((m) => presentMessage(m, this.mode, this.role));
  }

  override async *fetch(uids: number[]): AsyncIterable<MessageData> {
    if (this.role.kind === 'apart') {
      yield* this.inner.fetch(uids);
      return;
    }
    const out: MessageData[] = [];
    const remote: number[] = [];
    const waiting: MessageMeta[] = [];
    const claimed = new Set<string>();
    for (const uid of uids) {
      const id = this.seen.get(uid)?.emailId;
      if (id === undefined) remote.push(uid);
      else if (this.spool.claim(id)) {
        claimed.add(id);
        remote.push(uid);
      } else waiting.push(this.seen.get(uid)!);
    }
    try {
      for await (const m of this.inner.fetch(remote)) {
        // Only the metadata is remembered: the bytes live in the spool, or nowhere.
        const { raw: _raw, ...meta } = m;
        this.seen.set(m.uid, meta);
        // One the server did not give whole stays out of the spool: each view that wants it
        // fetches it itself (and meets the same failure), none takes an empty copy.
        if (m.damaged === undefined && m.emailId !== undefined && (claimed.delete(m.emailId) || this.spool.claim(m.emailId))) {
          await this.spool.put(m.emailId, m.raw, viewCount(m, this.mode) - 1);
        }
        if (this.shows(m)) out.push(presentMessage(m, this.mode, this.role));
      }
    } finally {
      // Claimed but not delivered (expunged, or the fetch broke): whoever waits fetches it.
      for (const id of claimed) this.spool.release(id);
    }
    const again: number[] = [];
    for (const meta of waiting) {
      await this.spool.settled(meta.emailId!);
      const raw = await this.spool.take(meta.emailId!);
      if (!raw) again.push(meta.uid);
      else if (this.shows(meta)) out.push(presentMessage({ ...meta, raw, local: true }, this.mode, this.role));
    }
    if (again.length > 0) for await (const m of this.inner.fetch(again)) if (this.shows(m)) out.push(presentMessage(m, this.mode, this.role));
    yield* out.sort((a, b) => a.uid - b.uid);
  }

  private shows(m: MessageMeta): boolean {
    return this.role.kind !== 'archive' || isArchivedOnly(m, this.mode);
  }
}

import type { AppendRequest, MessageData, MessageMeta } from '../../domain/types.js';
import { withoutDropped } from '../../engine/flags.js';
import type { AppendOutcome, FolderHandle, ScanRange, StreamedAppend } from '../store.js';
import { DelegatingHandle } from '../delegating-handle.js';

/*
 * Folder handles adjusted for what a provider profile says about the server: decorators, so the
 * IMAP folder handle itself stays plain.
 */

/** A destination folder that never receives the flags its profile drops (`flags.drop`, e.g. $MDNSent). */
export class FlagDroppingHandle extends DelegatingHandle {
  constructor(
    inner: FolderHandle,
    private readonly dropped: string[],
  ) {
    super(inner);
    const streamed = inner.appendStream;
    if (streamed) this.appendStream = (message) => streamed({ ...message, flags: withoutDropped(message.flags, dropped) });
  }

  readonly appendStream?: (message: StreamedAppend) => Promise<AppendOutcome>;

  override append(messages: AppendRequest[], answered?: (index: number) => void): Promise<AppendOutcome[]> {
    return this.inner.append(messages.map((m) => ({ ...m, flags: withoutDropped(m.flags, this.dropped) })), answered);
  }

  override setFlags(uid: number, flags: string[]): Promise<void> {
    return this.inner.setFlags(uid, withoutDropped(flags, this.dropped));
  }
}

/**
 * For a server that sets \Seen when a message body is fetched, even with BODY.PEEK and in a
 * read-only EXAMINE (iCloud, `quirks.restoreSeenAfterFetch`; imap-backup's
 * reset_seen_flags_after_fetch does the same). The flags are read before the bodies, the messages
 * are handed on with those flags, and each message that was unread gets its flags back
 * afterwards, so neither the source nor the copy shows mail as read that nobody read. The inner
 * handle must be opened read-write for that.
 */
export class SeenRestoringHandle extends DelegatingHandle {
  /** The bytes come only with fetch(), which puts \Seen back, never with a scan. */
  override scan(range: ScanRange): Promise<MessageMeta[]> {
    const { withBodies: _bodies, ...rest } = range;
    return this.inner.scan(rest);
  }

  override async *fetch(uids: number[]): AsyncIterable<MessageData> {
    if (uids.length === 0) return;
    const before = new Map((await this.inner.scan({ uids })).map((m) => [m.uid, m.flags]));
    const unread: number[] = [];
    for await (const m of this.inner.fetch(uids)) {
      const flags = before.get(m.uid) ?? m.flags;
      if (!flags.includes('\\Seen')) unread.push(m.uid);
      yield { ...m, flags };
    }
    // After the FETCH has ended: no other command may run on the connection during it.
    for (const uid of unread) await this.inner.setFlags(uid, before.get(uid) ?? []);
  }
}

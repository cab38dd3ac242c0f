import type { MailboxObject } from 'imapflow';
import type { MessageMeta } from '../../domain/types.js';
import type { ScanRange } from '../store.js';

/**
 * The last full metadata scan of each folder opened read-only, handed to the next opening of the
 * same folder in the same state instead of a second UID FETCH 1:* (a round trip per folder: a
 * first run scans every source folder for its plan, then again to copy it).
 *
 * "The same state" is UIDVALIDITY, UIDNEXT, EXISTS and HIGHESTMODSEQ as EXAMINE reported them:
 * with CONDSTORE any flag change or expunge raises HIGHESTMODSEQ and any new message UIDNEXT, so
 * an equal state is an unchanged folder (RFC 7162 §3.1). A server without HIGHESTMODSEQ could
 * change flags unseen, so nothing is kept for it. A scan is handed out once; the messages kept in
 * all are bounded, so a large account's scans are not held in memory between its two passes.
 */
export class ScanMemo {
  private readonly kept = new Map<string, { state: string; metas: MessageMeta[] }>();
  private held = 0;

  constructor(private readonly maxMessages: number) {}

  /** The folder's state as opened; undefined when a change could hide from it. */
  static stateOf(box: MailboxObject): string | undefined {
    if (box.highestModseq === undefined || box.noModseq) return undefined;
    return `${box.uidValidity}/${box.uidNext}/${box.exists}/${box.highestModseq}`;
  }

  /** Whether a scan asks for what a full scan kept here answers: every message's metadata, nothing more. */
  static isFull(range: ScanRange): boolean {
    return (range.fromUid ?? 1) <= 1 && range.uids === undefined && range.changedSince === undefined && !range.messageIds && !range.header && !range.headerFields?.length;
  }

  keep(folder: string, state: string, metas: MessageMeta[]): void {
    this.drop(folder);
    if (this.held + metas.length > this.maxMessages) return;
    this.kept.set(folder, { state, metas });
    this.held += metas.length;
  }

  /** Whether a scan of the folder is kept (in whatever state). */
  has(folder: string): boolean {
    return this.kept.has(folder);
  }

  /** The folder's kept scan if it was taken in this state; either way it is kept no longer. */
  take(folder: string, state: string): MessageMeta[] | undefined {
    const k = this.kept.get(folder);
    this.drop(folder);
    return k?.state === state ? k.metas : undefined;
  }

  private drop(folder: string): void {
    const k = this.kept.get(folder);
    if (!k) return;
    this.kept.delete(folder);
    this.held -= k.metas.length;
  }
}

/**
 * The engine's view of the checkpoint: a durable journal of what was done. The engine never
 * touches SQLite itself; `checkpoint/sqlite-checkpoint.ts` implements this.
 *
 * Write rule (mbsync's journal): a message's row becomes `pending` in a committed transaction
 * before its APPEND is sent, and `done` only after the server confirmed it. A `pending` row found
 * on resume means "may or may not have landed" and is settled by looking at the destination.
 */
export type MessageState = 'pending' | 'done' | 'skipped' | 'failed' | RemovalState;

/**
 * A `done` row whose source message is gone, on its way out of the destination (`migrate
 * --propagate-deletes`): `removing` is written before the EXPUNGE, `removed` after it.
 */
export type RemovalState = 'removing' | 'removed';

export interface FolderState {
  srcName: string;
  srcUidValidity: number;
  /** Source UIDNEXT and HIGHESTMODSEQ when the last pass over this folder completed. */
  srcUidNext: number;
  srcModseq?: string;
  /** Every source UID up to this one is settled (done, skipped or failed). */
  doneThrough: number;
  destName: string;
  destUidValidity?: number;
  /**
   * The search criteria (`MessageFilter.search`) the rows skipped as `not-matching-search` were
   * judged by; undefined when the last pass searched nothing, `SEARCH_CHANGING` while a pass with
   * other criteria than the last is under way (its rows are judged by two sets of criteria).
   */
  search?: string;
}

/** See `FolderState.search`: no criteria equal it, so every search skip is looked at again. */
export const SEARCH_CHANGING = '\u0000changing';

export interface MessageRow {
  srcUid: number;
  size: number;
  /** Epoch milliseconds. */
  internalDate: number;
  flags: string[];
  sha256?: string;
  state: MessageState;
  reason?: string;
  destUid?: number;
  /** Destination UIDNEXT (a lower bound of the new UID) when the APPEND intent was recorded. */
  destFloor?: number;
  /** When the APPEND intent was recorded (epoch ms). */
  intentAt?: number;
  /** SHA-256 of the destination's copy, where its server stored other bytes than `sha256`'s. */
  destSha256?: string;
}

export interface Checkpoint {
  /** Where it lives, for messages. */
  readonly location: string;
  folder(srcName: string): FolderState | undefined;
  saveFolder(state: FolderState): void;
  /** Rows of one source folder generation, optionally only in some states. */
  rows(srcName: string, srcUidValidity: number, states?: MessageState[]): MessageRow[];
  /**
   * The rows of some source UIDs of one folder generation (those it has), in UID order: a pass
   * over a few new or changed messages of a big folder reads their rows, not all of them.
   */
  rowsOf(srcName: string, srcUidValidity: number, srcUids: number[]): MessageRow[];
  /** Writes rows (insert or replace) in one transaction. */
  putRows(srcName: string, srcUidValidity: number, rows: MessageRow[]): void;
  /** Updates the flags recorded for messages, in one transaction. */
  putFlags(srcName: string, srcUidValidity: number, changes: Array<{ srcUid: number; flags: string[] }>): void;
  /** Runs `fn`, and every write it makes, as one transaction: one fsync instead of several. */
  batch<T>(fn: () => T): T;
  /** Bytes fetched from (`down`) and appended to (`up`) an account on a UTC day (YYYY-MM-DD). */
  usage(account: string, day: string): { down: number; up: number };
  addUsage(account: string, day: string, down: number, up: number): void;
  close(): void;
}

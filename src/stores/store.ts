import type { MimeLeaf } from '../domain/mime-structure.js';
import type { AppendRequest, FolderInfo, FolderStatus, MessageData, MessageMeta, SpecialUse } from '../domain/types.js';

/**
 * What a store can do, as data: the engine decides behaviour from these, never from the kind of
 * store it talks to.
 */
export interface StoreCaps {
  /** Append returns the new message's UID (IMAP UIDPLUS); otherwise the engine finds it by content. */
  returnsUidOnAppend: boolean;
  /** `scan({ changedSince })` works (IMAP CONDSTORE), so flag changes are found without a full scan. */
  changedSince: boolean;
  /**
   * An APPEND sent by a process that then died may still be committed a little later (a server
   * finishing it, bytes still in the network), so a rerun must give it time before looking.
   */
  appendsMayLandLate?: boolean;
  /** Largest message the store accepts, if it says (IMAP APPENDLIMIT). */
  maxMessageSize?: number;
  /** Messages carry labels (Gmail X-GM-EXT-1): `AppendRequest.labels` and `setLabels` are kept. */
  labels?: boolean;
  /**
   * The store may keep other bytes than it was given (IMAP servers: Dovecot makes NUL 0x80, Cyrus
   * rewrites 8-bit header bytes), so the engine looks at what it stored after an APPEND.
   */
  altersOnAppend?: boolean;
  /** Flags and keywords the store never keeps (its provider profile drops them, e.g. `$MDNSent`). */
  droppedFlags?: string[];
}

/** A message to store as its bytes arrive (`FolderHandle.appendStream`). */
export interface StreamedAppend {
  size: number;
  flags: string[];
  internalDate: Date;
  body: AsyncIterable<Buffer>;
}

export type AppendOutcome = { ok: true; uid?: number } | { ok: false; reason: string; message: string };

export interface ScanRange {
  /** Lowest UID to report; default 1. */
  fromUid?: number;
  /** Only messages whose flags changed after this modseq (requires `caps.changedSince`). */
  changedSince?: string;
  /** Only these UIDs (missing ones are simply absent from the result). */
  uids?: number[];
  /** Also read each message's Message-ID header (`MessageMeta.messageId`), e.g. for `verify --quick`. */
  messageIds?: boolean;
  /** Also read each message's whole header (`MessageMeta.header`), where the store can do so cheaply; others ignore it. */
  header?: boolean;
  /**
   * Also read only these header fields (`MessageMeta.header`, IMAP `BODY.PEEK[HEADER.FIELDS (...)]`),
   * where the store can do so without the body; others leave `header` out.
   */
  headerFields?: string[];
  /**
   * A full scan of a small folder about to be copied whole: a store may bring the messages' bytes
   * along in the same request when the folder is still as its listing said (these counters; the
   * caller judged it small by the listing's size), and answer the next `fetch` of those UIDs from
   * them (one round trip fewer per small folder). The bytes are held from the scan to that fetch.
   * Others ignore it.
   */
  withBodies?: Pick<FolderStatus, 'uidNext' | 'messages'> & { size: number };
}

/**
 * A folder opened on one connection or file handle.
 *
 * Ownership: the caller must `close()` it, also after an error; closing returns the underlying
 * connection to the store. Ordering: the methods of one handle are called one at a time (never
 * concurrently), which is what lets an IMAP handle own a single connection. Every method may throw
 * `ConnectionError`, `AuthError` or `QuotaError` (the whole side is in trouble), `FolderError`
 * (this folder cannot be used).
 */
export interface FolderHandle {
  /** The folder's counters as of opening it. */
  readonly status: FolderStatus;
  /** Flags this folder keeps; undefined means any flag and keyword. */
  readonly permanentFlags?: ReadonlySet<string>;
  /**
   * UIDs whose copies a local backup store found missing or damaged when it opened the folder for
   * writing. They are no longer served; `expunge` of them drops their records for good, once the
   * engine has journaled that their source messages are to be copied again.
   */
  readonly lostCopies?: ReadonlySet<number>;
  /**
   * Why the folder is not complete as read (one line naming the server, the folder and the
   * counts): set by a scan of the whole folder, opened for reading, that the server answered twice
   * with fewer messages than the folder holds. What it listed may be copied; nothing may be
   * concluded from a message's absence.
   */
  readonly incomplete?: string;
  /**
   * UIDs of the messages that match a selection (`MessageFilter.search`, in the store's own
   * language: IMAP SEARCH criteria). Read-only. Throws `UsageError` when the store refuses the
   * criteria. Stores without it refuse a selection before a run starts.
   */
  search?(criteria: string): Promise<number[]>;
  /** Metadata of messages, in ascending UID order. Read-only; safe to repeat. */
  scan(range: ScanRange): Promise<MessageMeta[]>;
  /**
   * Raw bytes of the given UIDs, in ascending UID order. UIDs no longer present (expunged) are
   * absent from the output rather than an error. Never changes the message or its \Seen flag.
   */
  fetch(uids: number[]): AsyncIterable<MessageData>;
  /**
   * Stores messages in order, one outcome per message. Not idempotent: a retry after an error may
   * duplicate, which is why the engine records intent first and reconciles by content. The new
   * UID is given when `caps.returnsUidOnAppend`. A message refused on its own merits (too large,
   * invalid) is an outcome, not a throw; a throw (quota, connection) leaves it unknown which of
   * the call's messages were stored. A store that stores them one at a time tells `answered` the
   * index of each message whose outcome it has, as it comes (for progress; a store that stores a
   * batch as a whole need not call it).
   */
  append(messages: AppendRequest[], answered?: (index: number) => void): Promise<AppendOutcome[]>;
  /**
   * One message's bytes as they arrive, in order: exactly `size` of them (its listed size), the
   * last chunk given only once no byte beyond it exists, for a message too big to hold at once
   * (paired with `appendStream`). Throws `StreamUnavailableError` where the message cannot be read
   * this way (gone, refused, of another size than listed) before its first chunk: the caller then
   * reads it the usual way. Never sets \Seen. Present only where the handle can stream. Until the
   * stream has ended, or was left (its iterator returned, which waits for what is under way), no
   * other method of the handle may be called.
   */
  readonly fetchStream?: (uid: number, size: number) => AsyncIterable<Buffer>;
  /**
   * Stores one message whose bytes arrive as `body` yields them, exactly `size` of them (the
   * destination is told the size first). The caller may hold back the last chunk until it has
   * journaled its intent: the message is not stored before that chunk is sent. If `body` throws or
   * yields another number of bytes, the message is never stored: the connection is dropped, the
   * handle is unusable, and the body's error (or a `ConnectionError`) is thrown. Settles only once
   * all of `body` was taken or dropped. Present only where the handle can take a message so.
   */
  readonly appendStream?: (message: StreamedAppend) => Promise<AppendOutcome>;
  /** Replaces a message's flags (system flags and keywords). Idempotent. */
  setFlags(uid: number, flags: string[]): Promise<void>;
  /** Replaces a message's labels; only where `caps.labels`. Idempotent. */
  setLabels?(uid: number, labels: string[]): Promise<void>;
  /**
   * Deletes messages for good; UIDs no longer present are ignored, so it is idempotent. The local
   * backup stores have it for `backup --mirror`; an IMAP destination for `migrate
   * --propagate-deletes` only (UID EXPUNGE of these UIDs). A source is never asked.
   */
  expunge?(uids: number[]): Promise<void>;
  /**
   * A message's MIME leaves without its body (IMAP BODYSTRUCTURE); undefined when the UID is gone.
   * Only stores that can read parts of a message have it (with `fetchSection`); never sets \Seen.
   */
  fetchStructure?(uid: number): Promise<MimeLeaf[] | undefined>;
  /** One section of a message (`HEADER`, `1`, `2.1`: IMAP BODY.PEEK[section]), as stored; never sets \Seen. */
  fetchSection?(uid: number, section: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

/** A destination's storage quota, in bytes (IMAP QUOTA, RFC 2087/9208: the STORAGE resource). */
export interface StorageQuota {
  usedBytes: number;
  limitBytes: number;
}

export interface CreateFolderOptions {
  specialUse?: SpecialUse;
  subscribe: boolean;
}

/**
 * A place mail lives: an IMAP account, a Maildir tree, an mbox directory or an archive. One typed
 * contract for all of them is what lets the engine ignore protocols and file formats.
 *
 * A store may be used by several workers at once: `listFolders`, `createFolder` and `openFolder`
 * are safe to call concurrently; each `openFolder` gives an independent handle (IMAP: its own
 * connection, leased from a pool of at most `connections`).
 */
export interface Store {
  readonly caps: StoreCaps;
  /** Human-readable, password-free name for messages: `imap://bob@127.0.0.1:10143`. */
  readonly label: string;
  /** Checks that the store can be reached (IMAP: connect and log in). Throws Auth/ConnectionError. */
  connect(): Promise<void>;
  /**
   * Every selectable folder, with status where cheap. `target`, when the folders are listed to be
   * copied, is what the destination can keep: a source whose messages sit in several folders at
   * once (Gmail labels) presents them as that destination can hold them.
   */
  listFolders(target?: StoreCaps): Promise<FolderInfo[]>;
  /** Creates a folder (and its parents) from hierarchy components; returns its listing. Idempotent. */
  createFolder(components: string[], options: CreateFolderOptions): Promise<FolderInfo>;
  /**
   * The name `createFolder(components)` gives the folder (IMAP: with the namespace prefix and the
   * server's delimiter, as the CREATE sends it), so a folder that could not be created is named
   * as the destination would have had it. Default: the components joined with `/`.
   */
  folderName?(components: string[]): string;
  /**
   * The account's storage quota, for the first run's plan; undefined when the server states none.
   * Only stores that can have one (IMAP) have it.
   */
  quota?(): Promise<StorageQuota | undefined>;
  /**
   * Starts opening connections up to `connections` now, in the background, so that workers about
   * to open folders find them logged in (IMAP: a login is several round trips, which a far server
   * makes seconds). They are opened once a login of the account went through, so a wrong
   * password is tried once; it may be called before `connect()`. A connection that fails here is
   * opened again by the worker that needs it, which then reports the error. Stores without
   * connections have no such method.
   */
  warm?(connections: number): void;
  /**
   * Opens a folder by its `FolderInfo.name`. `write` is needed for append and setFlags.
   * `next`: the scan the caller will ask for as soon as the folder is open, where it knows it; a
   * store may send it with the opening (the same answers, a round trip sooner). Others ignore it.
   */
  openFolder(name: string, mode: 'read' | 'write', next?: ScanRange): Promise<FolderHandle>;
  /** Ends every connection. Idempotent. */
  close(): Promise<void>;
}

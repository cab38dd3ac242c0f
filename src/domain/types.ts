/** Special-use attributes (RFC 6154) that mailferry maps between servers. */
export const SPECIAL_USES = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged', '\\Important'] as const;
export type SpecialUse = (typeof SPECIAL_USES)[number];

export function asSpecialUse(value: string | undefined): SpecialUse | undefined {
  return (SPECIAL_USES as readonly string[]).includes(value ?? '') ? (value as SpecialUse) : undefined;
}

/** A folder's counters, as STATUS or SELECT report them. */
export interface FolderStatus {
  uidValidity: number;
  uidNext: number;
  messages: number;
  /** CONDSTORE HIGHESTMODSEQ as a decimal string (it can exceed 2^53); absent without CONDSTORE. */
  highestModseq?: string;
  /** Bytes of all its messages (STATUS SIZE, RFC 8438), where the server tells them in its listing. */
  size?: number;
  /**
   * Messages a local backup store found missing or damaged on disk (a file deleted or shorter than
   * written): the folder needs opening even when its counters are unchanged (`FolderHandle.lostCopies`).
   */
  lost?: number;
}

/**
 * One folder as a store lists it. `name` is the store's own full name (IMAP: the decoded path,
 * with the server's delimiter and namespace prefix) and is what `openFolder` takes; `components`
 * is the same name split into hierarchy levels with the personal namespace prefix removed, which
 * is the only form folder mapping works on.
 */
export interface FolderInfo {
  name: string;
  components: string[];
  delimiter: string;
  specialUse?: SpecialUse;
  subscribed: boolean;
  /** Status from the listing itself (LIST-STATUS or STATUS), when the store has it cheaply. */
  status?: FolderStatus;
}

/** What a scan tells about a message without fetching its body. */
export interface MessageMeta {
  uid: number;
  size: number;
  /** System flags and keywords, `\Recent` already removed. */
  flags: string[];
  internalDate: Date;
  /** The Message-ID header, when the scan asked for it and the message has one. */
  messageId?: string;
  /** The raw header, up to and including the blank line after it, when the scan asked for it. */
  header?: Buffer;
  /** The server's id of the message across folders (Gmail X-GM-MSGID, RFC 8474 EMAILID). */
  emailId?: string;
  /** Gmail labels (X-GM-LABELS), system ones as `\Inbox`, `\Sent`, ...; only from a server that has them. */
  labels?: string[];
}

/** A message with its raw bytes exactly as the store returned them (IMAP: BODY.PEEK[]). */
export interface MessageData extends MessageMeta {
  raw: Buffer;
  /** Read from a local copy made earlier in the run, not transferred again (counts toward no download cap). */
  local?: boolean;
  /**
   * Set by a local store whose copy does not match what was recorded when it was written (size,
   * SHA-256, a cut-off end): why. Such a message is reported as failed, never copied.
   */
  damaged?: string;
}

export interface AppendRequest {
  raw: Buffer;
  flags: string[];
  internalDate: Date;
  /** Labels to give the new message, kept by a destination that has labels (`StoreCaps.labels`). */
  labels?: string[];
}

/** Two of the same thing, one per side: never write `host1`/`host2` by hand. */
export interface Sides<T> {
  source: T;
  dest: T;
}
export type Side = keyof Sides<unknown>;

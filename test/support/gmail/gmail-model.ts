/**
 * Gmail's mailbox model, without any IMAP: a mailbox is a set of messages with labels, and every
 * IMAP folder is a view of it (INBOX = label \Inbox, [Gmail]/All Mail = everything not in Spam or
 * Trash, one folder per user label, ...). A folder hands out a UID the first time a message shows
 * up in it and forgets it when the message leaves; coming back means a new, higher UID.
 */

export type Location = 'mail' | 'spam' | 'trash';

export interface StoredMessage {
  /** X-GM-MSGID: a decimal 64-bit number, above 2^53 so a tool parsing it as a JS number fails. */
  msgid: string;
  thrid: string;
  raw: Buffer;
  internalDate: Date;
  /** System flags and keywords; \Flagged is also the star (see labelsOf). */
  flags: Set<string>;
  /** User labels and system labels, except \Starred (kept as the \Flagged flag) and \Trash / \Spam (the location). */
  labels: Set<string>;
  location: Location;
}

export interface Folder {
  name: string;
  specialUse?: string;
  selectable: boolean;
  uidValidity: number;
  uidNext: number;
  /** Member → UID; insertion order is UID order, since UIDs only grow. */
  uids: Map<StoredMessage, number>;
  subscribed: boolean;
  /** Bumped when membership changes, so a session only re-reads a folder that changed. */
  version: number;
  contains(m: StoredMessage): boolean;
  /** What putting a message into this folder (APPEND, COPY) gives it: a label, or a location. */
  label?: string;
  location?: Location;
}

const SYSTEM_LABELS = ['\\Inbox', '\\Sent', '\\Draft', '\\Important', '\\Starred', '\\Trash', '\\Spam'];
const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];
const canonical = (names: string[], s: string) => names.find((n) => n.toLowerCase() === s.toLowerCase()) ?? s;

/** `\inbox` → `\Inbox`; Gmail takes the name INBOX for the \Inbox label too. */
export function normalizeLabel(label: string): string {
  return label.toUpperCase() === 'INBOX' ? '\\Inbox' : canonical(SYSTEM_LABELS, label);
}

/** Labels as Gmail reports them: the star appears as \Starred. */
export function labelsOf(m: StoredMessage): string[] {
  return [...m.labels, ...(m.flags.has('\\Flagged') ? ['\\Starred'] : [])];
}

/** Message ids and UIDVALIDITY values, unique across the whole server like Gmail's. */
export class IdSource {
  private lastMsgid = 1_790_000_000_000_000_000n;
  private lastValidity = 0;
  // Not consecutive: neighbouring ids differ in their last digits.
  msgid = () => (this.lastMsgid += 65_537n).toString();
  uidValidity = () => ++this.lastValidity;
}

type Op = 'set' | 'add' | 'remove';

export class GmailMailbox {
  /** In msgid order, which is the order UIDs are handed out in a new folder. */
  readonly messages: StoredMessage[] = [];
  private readonly alive = new Set<StoredMessage>();
  private readonly folders = new Map<string, Folder>();

  constructor(private readonly ids: IdSource) {
    const inMail = (m: StoredMessage) => m.location === 'mail';
    const labelled = (l: string) => (m: StoredMessage) => inMail(m) && m.labels.has(l);
    this.addFolder('INBOX', { contains: labelled('\\Inbox'), label: '\\Inbox' });
    this.addFolder('[Gmail]', { selectable: false, contains: () => false });
    this.addFolder('[Gmail]/All Mail', { specialUse: '\\All', contains: inMail });
    this.addFolder('[Gmail]/Drafts', { specialUse: '\\Drafts', contains: labelled('\\Draft'), label: '\\Draft' });
    this.addFolder('[Gmail]/Important', { specialUse: '\\Important', contains: labelled('\\Important'), label: '\\Important' });
    this.addFolder('[Gmail]/Sent Mail', { specialUse: '\\Sent', contains: labelled('\\Sent'), label: '\\Sent' });
    this.addFolder('[Gmail]/Spam', { specialUse: '\\Junk', contains: (m) => m.location === 'spam', location: 'spam' });
    this.addFolder('[Gmail]/Starred', { specialUse: '\\Flagged', contains: (m) => inMail(m) && m.flags.has('\\Flagged'), label: '\\Starred' });
    this.addFolder('[Gmail]/Trash', { specialUse: '\\Trash', contains: (m) => m.location === 'trash', location: 'trash' });
  }

  /** INBOX in any case, every other name exactly. */
  folder(name: string): Folder | undefined {
    return this.folders.get(name.toUpperCase() === 'INBOX' ? 'INBOX' : name.replace(/\/+$/, ''));
  }

  folderList(): Folder[] {
    return [...this.folders.values()].sort((a, b) => (a.name === 'INBOX' ? -1 : b.name === 'INBOX' ? 1 : a.name < b.name ? -1 : 1));
  }

  hasChildren(f: Folder): boolean {
    return [...this.folders.keys()].some((n) => n.startsWith(f.name + '/'));
  }

  /**
   * A user label and its folder. Like Gmail, a nested label "a/b" makes its parent "a" a label
   * too, so every user folder is selectable (no \Noselect placeholders besides [Gmail]).
   */
  createLabel(name: string): Folder {
    name = name.replace(/\/+$/, '');
    if (!name || /^(INBOX|\[Gmail\])(\/|$)|^\\|\/\//i.test(name)) throw new Error(`[CANNOT] Invalid label name: ${name}`);
    const parent = name.lastIndexOf('/');
    if (parent > 0 && !this.folder(name.slice(0, parent))) this.createLabel(name.slice(0, parent));
    return this.folder(name) ?? this.addFolder(name, { label: name, contains: (m) => m.location === 'mail' && m.labels.has(name) });
  }

  add(input: { raw: Buffer; labels?: string[]; flags?: string[]; internalDate?: Date; location?: Location; thrid?: string }): StoredMessage {
    const msgid = this.ids.msgid();
    const internalDate = input.internalDate ?? new Date(Math.floor(Date.now() / 1000) * 1000);
    const m: StoredMessage = { msgid, thrid: input.thrid ?? msgid, raw: input.raw, internalDate, flags: new Set(), labels: new Set(), location: input.location ?? 'mail' };
    this.messages.push(m);
    this.alive.add(m);
    this.setFlags(m, 'set', input.flags ?? []);
    this.setLabels(m, 'add', input.labels ?? []);
    return m;
  }

  setFlags(m: StoredMessage, op: Op, flags: string[]): void {
    const given = flags.map((f) => canonical(SYSTEM_FLAGS, f)).filter((f) => f !== '\\Recent');
    if (op === 'set') m.flags = new Set(given);
    for (const f of given) op === 'remove' ? m.flags.delete(f) : m.flags.add(f);
    this.sync(m);
  }

  /**
   * Label changes as Gmail applies them: \Starred is the \Flagged flag, \Trash and \Spam move the
   * message there (removing them moves it back), and an unknown user label is created.
   */
  setLabels(m: StoredMessage, op: Op, labels: string[]): void {
    const given = labels.map(normalizeLabel);
    const next = new Set(op === 'set' ? [] : labelsOf(m));
    for (const l of given) op === 'remove' ? next.delete(l) : next.add(l);
    for (const [label, location] of [['\\Trash', 'trash'], ['\\Spam', 'spam']] as const) {
      if (next.delete(label)) m.location = location;
      else if (op === 'remove' && given.includes(label) && m.location === location) m.location = 'mail';
    }
    if (next.delete('\\Starred')) m.flags.add('\\Flagged');
    else m.flags.delete('\\Flagged');
    for (const l of next) if (!l.startsWith('\\') && !this.folder(l)) this.createLabel(l);
    m.labels = next;
    this.sync(m);
  }

  /** COPY into a folder: give the message what that folder stands for. */
  place(m: StoredMessage, f: Folder): void {
    m.location = f.location ?? 'mail';
    if (f.label === '\\Starred') m.flags.add('\\Flagged');
    else if (f.label) m.labels.add(f.label);
    this.sync(m);
  }

  /**
   * EXPUNGE of a \Deleted message in a folder, kept simple: in Trash and Spam it is gone for good,
   * in All Mail it moves to Trash, elsewhere it loses that folder's label (or star). \Deleted is
   * cleared, as the message lives on elsewhere and must not vanish from the next folder expunged.
   */
  expungeFrom(m: StoredMessage, f: Folder): void {
    if (f.location) this.messages.splice(this.messages.indexOf(m), 1), this.alive.delete(m);
    else if (f.specialUse === '\\All') m.location = 'trash';
    else if (f.label === '\\Starred') m.flags.delete('\\Flagged');
    else if (f.label) m.labels.delete(f.label);
    m.flags.delete('\\Deleted');
    this.sync(m);
  }

  /** The folder's messages with their UIDs, in UID order. */
  view(f: Folder): Array<{ m: StoredMessage; uid: number }> {
    return [...f.uids].map(([m, uid]) => ({ m, uid }));
  }

  private addFolder(name: string, spec: Pick<Folder, 'contains'> & Partial<Folder>): Folder {
    const f: Folder = { name, selectable: true, uidValidity: this.ids.uidValidity(), uidNext: 1, uids: new Map(), subscribed: true, version: 0, ...spec };
    this.folders.set(name, f);
    for (const m of this.messages) this.syncOne(m, f);
    return f;
  }

  /** Re-derives the message's folder memberships after any change to it. */
  private sync(m: StoredMessage): void {
    for (const f of this.folders.values()) this.syncOne(m, f);
  }

  private syncOne(m: StoredMessage, f: Folder): void {
    const member = f.selectable && this.alive.has(m) && f.contains(m);
    if (member === f.uids.has(m)) return;
    if (member) f.uids.set(m, f.uidNext++);
    else f.uids.delete(m);
    f.version++;
  }
}

/**
 * An in-memory IMAP server that answers like Gmail (X-GM-EXT-1) for tests: the IMAP front of the
 * model in gmail-model.ts. One Session per connection reads commands strictly in order (however
 * they were pipelined or chunked) and answers each before reading the next.
 */
import net from 'node:net';
import { GmailMailbox, IdSource, labelsOf, normalizeLabel, type Folder, type Location, type StoredMessage } from './gmail-model.js';
import {
  ByteReader, ParseError, decodeMailboxName as decodeName, encodeMailboxName as encodeName, formatImapDate, parseImapDate, quote,
  readCommand, seqSet, tokenList, tokenText, tokenize, type RawCommand, type Token,
} from './imap-parser.js';

export interface GmailServerOptions {
  users: Array<{ name: string; password: string }>;
  /** APPENDLIMIT in bytes (default 35,651,584, Gmail's). */
  appendLimit?: number;
  /** Leave the selected folder's own label out of X-GM-LABELS, as real Gmail does (default: listed). */
  omitSelectedLabel?: boolean;
}

export interface SeedMessage {
  raw: Buffer | string;
  /** Default none: the message is archived, in [Gmail]/All Mail only. */
  labels?: string[];
  flags?: string[];
  /** Default: now, to the second. */
  internalDate?: Date;
  location?: Location;
  /** Default: its own msgid (every message is a thread of its own). */
  thrid?: string;
}

export type MessageInfo = Omit<StoredMessage, 'labels' | 'flags'> & { labels: string[]; flags: string[] };

export interface GmailStats {
  /** msgid → how many times BODY[] / BODY.PEEK[] (whole or partial) of it was sent. */
  bodyFetches: Map<string, number>;
  /** Bytes of BODY[...] data sent, all sections (header fields too). */
  bytesSent: number;
  appends: number;
  /** Every command line received, literals shown as their {n} markers, secrets as ***. */
  commands: string[];
}

export interface Injection {
  /** Tested against each command line (literal bytes left out, their {n} markers kept). */
  match: RegExp;
  /** How many matching commands to answer this way (default 1). */
  times?: number;
  /** Let this many matching commands through first (default 0). */
  after?: number;
  reply: 'throttled' | 'bye' | ((tag: string) => string);
}

interface Account { password: string; mailbox: GmailMailbox; stats: GmailStats }

export class GmailServer {
  readonly host = '127.0.0.1';
  port = 0;
  readonly appendLimit: number;
  readonly omitSelectedLabel: boolean;
  private readonly accounts = new Map<string, Account>();
  private readonly armed: Array<{ spec: Injection; seen: number; fired: number }> = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((socket) => this.accept(socket)).on('error', () => undefined);
  private closing: Promise<void> | undefined;

  constructor(opts: GmailServerOptions) {
    this.appendLimit = opts.appendLimit ?? 35_651_584;
    this.omitSelectedLabel = opts.omitSelectedLabel ?? false;
    const ids = new IdSource(); // msgids are unique server-wide, as Gmail's are
    for (const u of opts.users) {
      this.accounts.set(u.name, { password: u.password, mailbox: new GmailMailbox(ids), stats: { bodyFetches: new Map(), bytesSent: 0, appends: 0, commands: [] } });
    }
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.server.once('error', reject).listen(0, this.host, resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Seeds a message; returns its X-GM-MSGID. */
  addMessage(user: string, msg: SeedMessage): string {
    return this.account(user).mailbox.add({ ...msg, raw: Buffer.from(msg.raw) }).msgid;
  }

  addLabelFolder(user: string, name: string): void {
    this.account(user).mailbox.createLabel(name);
  }

  messages(user: string): MessageInfo[] {
    return this.account(user).mailbox.messages.map((m) => ({ ...m, labels: labelsOf(m), flags: [...m.flags] }));
  }

  folderMessages(user: string, folder: string): Array<{ uid: number; msgid: string }> {
    const mb = this.account(user).mailbox;
    const f = mb.folder(folder);
    if (!f) throw new Error(`no folder ${folder} for ${user}`);
    return mb.view(f).map(({ m, uid }) => ({ uid, msgid: m.msgid }));
  }

  folderNames(user: string): string[] {
    return this.account(user).mailbox.folderList().map((f) => f.name);
  }

  /** The live counters (they go on counting after this call). */
  stats(user: string): GmailStats {
    return this.account(user).stats;
  }

  inject(injection: Injection): void {
    this.armed.push({ spec: injection, seen: 0, fired: 0 });
  }

  /** Disarms every injection not used up yet. */
  clearInjections(): void {
    for (const a of this.armed) a.spec = { ...a.spec, times: a.fired };
  }

  /** How often each injection fired, in the order they were injected. */
  injections(): Array<{ match: RegExp; fired: number }> {
    return this.armed.map((a) => ({ match: a.spec.match, fired: a.fired }));
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      for (const s of this.sockets) s.destroy();
      this.server.close(() => resolve());
    });
    return this.closing;
  }

  /** @internal */
  login(user: string, password: string): Account | undefined {
    const account = this.accounts.get(user);
    return account?.password === password ? account : undefined;
  }

  /** @internal The injection that answers this command line instead of the server, if one is due. */
  takeInjection(line: string): Injection | undefined {
    for (const a of this.armed) {
      a.spec.match.lastIndex = 0;
      if (a.spec.match.test(line) && ++a.seen > (a.spec.after ?? 0) && a.fired < (a.spec.times ?? 1)) {
        a.fired++;
        return a.spec;
      }
    }
    return undefined;
  }

  private account(user: string): Account {
    const account = this.accounts.get(user);
    if (!account) throw new Error(`no such user: ${user}`);
    return account;
  }

  private accept(socket: net.Socket): void {
    if (this.closing) return void socket.destroy();
    socket.setNoDelay(true); // untagged and tagged lines go out in separate writes: no Nagle delay
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    void new Session(this, socket).run();
  }
}

export async function startGmailServer(opts: GmailServerOptions): Promise<GmailServer> {
  const server = new GmailServer(opts);
  await server.listen();
  return server;
}

type ViewEntry = { m: StoredMessage; uid: number };
/** `view` is the session's own numbering; changes by others reach it as EXISTS / EXPUNGE (refresh). */
type Selected = { folder: Folder; readOnly: boolean; view: ViewEntry[]; version: number };
type BodyItem = { kind: 'BODY'; key: string; peek: boolean; section: string; fields?: string[]; not?: boolean; origin?: number; length?: number };
type FetchItem = { kind: 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'X-GM-MSGID' | 'X-GM-THRID' | 'X-GM-LABELS' } | BodyItem;

const SELECTED_ONLY = ['CHECK', 'CLOSE', 'UNSELECT', 'FETCH', 'STORE', 'SEARCH', 'COPY', 'EXPUNGE'];
const AUTHENTICATED_ONLY = ['ENABLE', 'NAMESPACE', 'LIST', 'LSUB', 'STATUS', 'SELECT', 'EXAMINE', 'CREATE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'APPEND'];
/** Commands that only report something: their untagged lines. */
const FIXED: Record<string, string> = {
  NOOP: '',
  CHECK: '',
  ID: '* ID ("name" "GImap" "vendor" "Google, Inc." "support-url" "https://support.google.com/mail")\r\n',
  ENABLE: '* ENABLED\r\n', // nothing to enable: UTF8=ACCEPT, CONDSTORE and the like are not advertised
  NAMESPACE: '* NAMESPACE (("" "/")) NIL NIL\r\n',
};
const FLAGS = '\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing';

class Session {
  private readonly reader = new ByteReader();
  private account: Account | undefined;
  private selected: Selected | undefined;
  /** Commands before LOGIN belong to no account yet; they are credited to it on success. */
  private preAuthLog: string[] = [];
  private closed = false;

  constructor(private readonly server: GmailServer, private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('end', () => this.reader.end());
    socket.on('close', () => ((this.closed = true), this.reader.end()));
    socket.on('error', () => undefined); // a client hanging up is no failure of the test process
  }

  async run(): Promise<void> {
    // A synchronizing APPEND literal over the limit is refused before the client sends it.
    const gate = (text: string, size: number) => (/^\S+ APPEND /i.test(text) && size > this.server.appendLimit ? 'NO [TOOBIG] Message too large' : undefined);
    try {
      await this.write('* OK Gimap ready for requests from 127.0.0.1\r\n');
      while (!this.closed) {
        const cmd = await readCommand(this.reader, () => this.write('+ go ahead\r\n'), gate);
        if (!cmd) break;
        await this.execute(cmd);
      }
    } catch (err) {
      if (err instanceof ParseError) await this.write(`* BYE ${err.message}\r\n`); // line too long
    } finally {
      if (!this.socket.writableEnded) this.socket.destroy();
    }
  }

  private async execute(cmd: RawCommand): Promise<void> {
    const line = cmd.text.replace(/\r\n/g, '');
    const redacted = line.replace(/^(\S+ LOGIN (?:"(?:[^"\\]|\\.)*"|\S+)) .*$/i, '$1 ***').replace(/^(\S+ AUTHENTICATE \S+) .+$/i, '$1 ***');
    (this.account?.stats.commands ?? this.preAuthLog).push(redacted);
    if (cmd.refused) return this.write(`${cmd.tag} ${cmd.refused}\r\n`);
    const injection = this.server.takeInjection(line);
    if (injection?.reply === 'throttled') return this.write(`${cmd.tag} NO [THROTTLED] Account exceeded command or bandwidth limits. (Failure)\r\n`);
    if (injection?.reply === 'bye') {
      await this.write('* BYE [UNAVAILABLE] Temporary System Problem. Try again later\r\n');
      return this.hangUp();
    }
    if (injection) return this.write(injection.reply(cmd.tag).replace(/(\r\n)?$/, '\r\n'));
    let name = '';
    let result: string;
    try {
      const [, nameTok, ...args] = tokenize(cmd);
      name = tokenText(nameTok).toUpperCase();
      const byUid = name === 'UID';
      if (byUid) name = tokenText(args.shift()).toUpperCase();
      result = await this.dispatch(name, args, byUid);
      // RFC 3501 7.4.1: no EXPUNGE while a sequence-number FETCH, STORE or SEARCH runs.
      if (byUid || !['FETCH', 'STORE', 'SEARCH'].includes(name)) await this.refresh();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      result = err instanceof ParseError ? `BAD ${message}` : `NO ${message} (Failure)`;
    }
    await this.write(`${cmd.tag} ${result}\r\n`);
    if (name === 'LOGOUT') this.hangUp();
  }

  private hangUp(): void {
    this.closed = true;
    this.socket.end(() => this.socket.destroy());
  }

  private async dispatch(name: string, args: Token[], byUid: boolean): Promise<string> {
    if (byUid && !['FETCH', 'STORE', 'SEARCH', 'COPY', 'EXPUNGE'].includes(name)) throw new ParseError(`Unknown command UID ${name}`);
    if (SELECTED_ONLY.includes(name) && !this.selected) throw new ParseError('No mailbox selected');
    if (AUTHENTICATED_ONLY.includes(name) && !this.account) throw new ParseError('Command not valid before login');
    if ((name === 'LOGIN' || name === 'AUTHENTICATE') && this.account) throw new ParseError('Already authenticated');
    const fixed = FIXED[name];
    if (fixed !== undefined) return this.write(fixed).then(() => 'OK Success');
    const sel = this.selected as Selected;
    switch (name) {
      case 'CAPABILITY':
        await this.write(`* CAPABILITY ${this.capabilities()}\r\n`);
        return 'OK Success';
      case 'LOGOUT':
        await this.write('* BYE LOGOUT Requested\r\n');
        return 'OK 73 good day (Success)';
      case 'LOGIN': return this.loggedIn(this.server.login(tokenText(args[0]), tokenText(args[1])));
      case 'AUTHENTICATE': return this.authenticate(args);
      case 'LIST': case 'LSUB': return this.list(args, name);
      case 'STATUS': return this.status(args);
      case 'SELECT': case 'EXAMINE': return this.select(args, name === 'EXAMINE');
      case 'CREATE': {
        const folderName = decodeName(tokenText(args[0])).replace(/\/+$/, '');
        if (this.mailbox.folder(folderName)) return 'NO [ALREADYEXISTS] Duplicate folder name (Failure)';
        this.mailbox.createLabel(folderName); // throws (NO) for INBOX, [Gmail]/... and the like
        return 'OK Success';
      }
      case 'SUBSCRIBE': case 'UNSUBSCRIBE':
        this.folderArg(args[0]).subscribed = name === 'SUBSCRIBE';
        return 'OK Success';
      case 'APPEND': return this.append(args);
      case 'CLOSE': case 'UNSELECT':
        if (name === 'CLOSE' && !sel.readOnly) this.expunge(() => true);
        this.selected = undefined;
        return 'OK Returned to authenticated state. (Success)';
      case 'FETCH': return this.fetch(args, byUid);
      case 'STORE': return this.store(args, byUid);
      case 'SEARCH': {
        const start = args[0] && tokenText(args[0]).toUpperCase() === 'CHARSET' ? 2 : 0;
        const matches = compileSearch(args.slice(start), this.maxUid(), sel.view.length);
        const hits = sel.view.flatMap((e, i) => (matches(e.m, i + 1, e.uid) ? [` ${byUid ? e.uid : i + 1}`] : []));
        await this.write(`* SEARCH${hits.join('')}\r\n`);
        return 'OK SEARCH completed (Success)';
      }
      case 'COPY': return this.copy(args, byUid);
      case 'EXPUNGE':
        if (sel.readOnly) return 'NO [READ-ONLY] Mailbox is read-only';
        this.expunge(byUid ? seqSet(tokenText(args[0]), this.maxUid()) : () => true);
        return 'OK Success';
      default:
        throw new ParseError(`Unknown command ${name}`);
    }
  }

  private capabilities(): string {
    const auth = this.account ? '' : ' SASL-IR AUTH=PLAIN';
    return `IMAP4rev1 UNSELECT ID NAMESPACE UIDPLUS CHILDREN X-GM-EXT-1 SPECIAL-USE LITERAL- ENABLE${auth} APPENDLIMIT=${this.server.appendLimit}`;
  }

  private loggedIn(account: Account | undefined): string {
    if (!account) return 'NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)';
    this.account = account;
    account.stats.commands.push(...this.preAuthLog.splice(0));
    return `OK [CAPABILITY ${this.capabilities()}] authenticated (Success)`;
  }

  /** AUTHENTICATE PLAIN, with the response on the command line (SASL-IR) or after a "+". */
  private async authenticate(args: Token[]): Promise<string> {
    if (tokenText(args[0]).toUpperCase() !== 'PLAIN') return 'NO Unsupported authentication mechanism';
    let response = args[1] && tokenText(args[1]);
    if (response === undefined) {
      await this.write('+ \r\n');
      response = (await this.reader.line(64 * 1024))?.toString('latin1') ?? '*';
    }
    if (response === '*') return 'BAD Authentication cancelled';
    const [authzid, user = '', password = ''] = Buffer.from(response === '=' ? '' : response, 'base64').toString('utf8').split('\0');
    return this.loggedIn(authzid && authzid !== user ? undefined : this.server.login(user, password));
  }

  private get mailbox(): GmailMailbox {
    return (this.account as Account).mailbox;
  }

  /** A mailbox-name argument that has to name an existing folder. */
  private folderArg(tok: Token | undefined, selectable = false): Folder {
    const name = decodeName(tokenText(tok));
    const folder = this.mailbox.folder(name);
    if (!folder || (selectable && !folder.selectable)) throw new Error(`[NONEXISTENT] Unknown Mailbox: ${name}`);
    return folder;
  }

  /** LIST / LSUB, with the RFC 5258 forms too: (selection) first, a list of patterns, RETURN (...) last. */
  private async list(args: Token[], command: string): Promise<string> {
    let i = 0;
    const atoms = (tok: Token | undefined) => tokenList(tok).flatMap((t) => (t.kind === 'atom' ? [t.value.toUpperCase()] : []));
    const selection = args[0]?.kind === 'list' ? atoms(args[i++]) : [];
    const reference = decodeName(tokenText(args[i++]));
    const patternTok = args[i++];
    const patterns = (patternTok?.kind === 'list' ? patternTok.items : [patternTok]).map((t) => reference + decodeName(tokenText(t)));
    let returns: string[] = [];
    if (args[i] && tokenText(args[i]).toUpperCase() === 'RETURN') {
      returns = atoms(args[i + 1]);
      i += 2;
    }
    if (i !== args.length) throw new ParseError('Invalid LIST arguments');
    if (patterns.length === 1 && patterns[0] === '') {
      await this.write(`* ${command} (\\Noselect) "/" ""\r\n`);
      return 'OK Success';
    }
    // `*` matches across levels, `%` within one; only INBOX is matched case-insensitively.
    const regexes = patterns.map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/%/g, '[^/]*'));
    const matches = (name: string) => regexes.some((re) => new RegExp(`^${re}$`, name === 'INBOX' ? 'i' : '').test(name));
    const subscribedOnly = command === 'LSUB' || selection.includes('SUBSCRIBED');
    const showSubscribed = selection.includes('SUBSCRIBED') || returns.includes('SUBSCRIBED');
    for (const f of this.mailbox.folderList()) {
      if (!matches(f.name) || (subscribedOnly && !f.subscribed) || (selection.includes('SPECIAL-USE') && !f.specialUse)) continue;
      const attrs = [this.mailbox.hasChildren(f) ? '\\HasChildren' : '\\HasNoChildren', f.selectable ? '' : '\\Noselect', f.specialUse ?? ''];
      if (showSubscribed && f.subscribed) attrs.push('\\Subscribed');
      await this.write(`* ${command} (${attrs.filter(Boolean).join(' ')}) "/" ${quote(encodeName(f.name))}\r\n`);
    }
    return 'OK Success';
  }

  private async status(args: Token[]): Promise<string> {
    const f = this.folderArg(args[0], true);
    const members = [...f.uids.keys()];
    const unseen = members.filter((m) => !m.flags.has('\\Seen')).length;
    const values: Record<string, number> = { MESSAGES: members.length, RECENT: 0, UIDNEXT: f.uidNext, UIDVALIDITY: f.uidValidity, UNSEEN: unseen };
    const out = tokenList(args[1]).map((t) => {
      const item = tokenText(t).toUpperCase();
      if (values[item] === undefined) throw new ParseError(`Unsupported STATUS item ${item}`);
      return `${item} ${values[item]}`;
    });
    await this.write(`* STATUS ${quote(encodeName(f.name))} (${out.join(' ')})\r\n`);
    return 'OK Success';
  }

  private async select(args: Token[], readOnly: boolean): Promise<string> {
    this.selected = undefined; // a failed SELECT leaves no mailbox selected (RFC 3501 6.3.1)
    const folder = this.folderArg(args[0], true);
    const view = this.mailbox.view(folder);
    await this.write(
      `* FLAGS (${FLAGS})\r\n* OK [PERMANENTFLAGS (${readOnly ? '' : `${FLAGS} \\*`})] Flags permitted.\r\n` +
        `* OK [UIDVALIDITY ${folder.uidValidity}] UIDs valid.\r\n* ${view.length} EXISTS\r\n* 0 RECENT\r\n` +
        `* OK [UIDNEXT ${folder.uidNext}] Predicted next UID.\r\n`,
    );
    this.selected = { folder, readOnly, view, version: folder.version };
    return `OK [${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${quote(encodeName(folder.name))} selected. (Success)`;
  }

  /**
   * Tells the session what changed in its folder since it last looked (other sessions, APPEND,
   * COPY, label changes, EXPUNGE): EXPUNGE for messages that left, EXISTS for new ones.
   */
  private async refresh(): Promise<void> {
    const sel = this.selected;
    if (!sel || sel.version === sel.folder.version) return;
    sel.version = sel.folder.version;
    const current = this.mailbox.view(sel.folder);
    const live = new Set(current.map((e) => e.uid));
    let out = '';
    // From the highest sequence number down, so each number is still valid when the client reads it.
    for (let i = sel.view.length - 1; i >= 0; i--) {
      if (live.has((sel.view[i] as ViewEntry).uid)) continue;
      out += `* ${i + 1} EXPUNGE\r\n`;
      sel.view.splice(i, 1);
    }
    const known = new Set(sel.view.map((e) => e.uid));
    const added = current.filter((e) => !known.has(e.uid)); // new UIDs are higher than every known one
    if (added.length) out += `* ${sel.view.push(...added)} EXISTS\r\n`;
    if (out) await this.write(out);
  }

  private maxUid(): number {
    return (this.selected as Selected).view.at(-1)?.uid ?? 0;
  }

  /** The selected messages a sequence set names, by UID or by sequence number. */
  private pick(tok: Token | undefined, byUid: boolean): Array<{ seq: number; entry: ViewEntry }> {
    const view = (this.selected as Selected).view;
    const test = seqSet(tokenText(tok), byUid ? this.maxUid() : view.length);
    return view.flatMap((entry, i) => (test(byUid ? entry.uid : i + 1) ? [{ seq: i + 1, entry }] : []));
  }

  private async fetch(args: Token[], byUid: boolean): Promise<string> {
    if (args.length !== 2) throw new ParseError('FETCH modifiers are not supported');
    const targets = this.pick(args[0], byUid);
    const items = tokenList(args[1]).flatMap((t) => parseFetchItem(tokenText(t)));
    if (byUid && !items.some((i) => i.kind === 'UID')) items.unshift({ kind: 'UID' });
    for (const { seq, entry } of targets) await this.write(this.fetchResponse(seq, entry, items));
    return 'OK Success';
  }

  private fetchResponse(seq: number, { m, uid }: ViewEntry, requested: FetchItem[]): Buffer {
    const stats = (this.account as Account).stats;
    const items = [...requested];
    // BODY[] (not PEEK) reads the message: \Seen is set and, as RFC 3501 asks, the new FLAGS sent.
    if (!this.selected?.readOnly && !m.flags.has('\\Seen') && items.some((i) => i.kind === 'BODY' && !i.peek)) {
      this.mailbox.setFlags(m, 'add', ['\\Seen']);
      if (!items.some((i) => i.kind === 'FLAGS')) items.push({ kind: 'FLAGS' });
    }
    const parts: Buffer[] = [];
    let text = `* ${seq} FETCH (`;
    items.forEach((item, n) => {
      text += n ? ' ' : '';
      if (item.kind !== 'BODY') {
        const value = {
          UID: uid,
          FLAGS: `(${[...m.flags].join(' ')})`,
          INTERNALDATE: `"${formatImapDate(m.internalDate)}"`,
          'RFC822.SIZE': m.raw.length,
          'X-GM-MSGID': m.msgid,
          'X-GM-THRID': m.thrid,
          'X-GM-LABELS': `(${this.labelsFor(m)})`,
        }[item.kind];
        text += `${item.kind} ${value}`;
        return;
      }
      const data = bodySection(m.raw, item);
      if (item.section === '') stats.bodyFetches.set(m.msgid, (stats.bodyFetches.get(m.msgid) ?? 0) + 1);
      stats.bytesSent += data.length;
      parts.push(Buffer.from(`${text}${item.key} {${data.length}}\r\n`), data);
      text = '';
    });
    parts.push(Buffer.from(`${text})\r\n`));
    return Buffer.concat(parts);
  }

  /** X-GM-LABELS as Gmail writes them: quoted, system labels with their backslash escaped. */
  private labelsFor(m: StoredMessage): string {
    const own = this.server.omitSelectedLabel ? this.selected?.folder.label : undefined;
    return labelsOf(m).filter((l) => l !== own).map((l) => quote(l.startsWith('\\') ? l : encodeName(l))).join(' ');
  }

  private async store(args: Token[], byUid: boolean): Promise<string> {
    if (this.selected?.readOnly) return 'NO [READ-ONLY] Mailbox is read-only';
    const what = /^([+-]?)(FLAGS|X-GM-LABELS)(\.SILENT)?$/.exec(tokenText(args[1]).toUpperCase());
    if (!what || args.length !== 3) throw new ParseError('Invalid STORE arguments (modifiers are not supported)');
    const op = what[1] === '+' ? 'add' : what[1] === '-' ? 'remove' : 'set';
    const values = tokenList(args[2]).map(tokenText);
    for (const { seq, entry } of this.pick(args[0], byUid)) {
      if (what[2] === 'FLAGS') this.mailbox.setFlags(entry.m, op, values);
      else this.mailbox.setLabels(entry.m, op, values.map((v) => normalizeLabel(decodeName(v))));
      const value = what[2] === 'FLAGS' ? [...entry.m.flags].join(' ') : this.labelsFor(entry.m);
      if (!what[3]) await this.write(`* ${seq} FETCH (${byUid ? `UID ${entry.uid} ` : ''}${what[2]} (${value}))\r\n`);
    }
    return 'OK Success';
  }

  /** COPY gives the message what the target folder stands for (a label, the star, Trash/Spam); it stays one message. */
  private copy(args: Token[], byUid: boolean): string {
    const targets = this.pick(args[0], byUid);
    const dest = this.mailbox.folder(decodeName(tokenText(args[1])));
    if (!dest?.selectable) return "NO [TRYCREATE] Folder doesn't exist";
    const from: number[] = [];
    const to: number[] = [];
    for (const { entry } of targets) {
      this.mailbox.place(entry.m, dest);
      const uid = dest.uids.get(entry.m);
      if (uid !== undefined) from.push(entry.uid), to.push(uid);
    }
    return from.length ? `OK [COPYUID ${dest.uidValidity} ${from.join(',')} ${to.join(',')}] (Success)` : 'OK (Success)';
  }

  /** Expunges the selected folder's \Deleted messages; the EXPUNGE responses come from refresh(). */
  private expunge(only: (uid: number) => boolean): void {
    const sel = this.selected as Selected;
    for (const { m, uid } of sel.view) if (only(uid) && m.flags.has('\\Deleted') && sel.folder.uids.has(m)) this.mailbox.expungeFrom(m, sel.folder);
  }

  private append(args: Token[]): string {
    const message = args.at(-1);
    if (args.length < 2 || args.length > 4 || message?.kind !== 'string') throw new ParseError('Invalid APPEND arguments (MULTIAPPEND is not supported)');
    let flags: string[] = [];
    let internalDate: Date | undefined;
    for (const t of args.slice(1, -1)) {
      if (t.kind === 'list') flags = t.items.map(tokenText);
      else internalDate = parseImapDate(tokenText(t));
    }
    const folder = this.mailbox.folder(decodeName(tokenText(args[0])));
    if (!folder?.selectable) return "NO [TRYCREATE] Folder doesn't exist";
    if (message.value.length > this.server.appendLimit) return 'NO [TOOBIG] Message too large';
    const m = this.mailbox.add({ raw: message.value, flags, internalDate, labels: folder.label ? [folder.label] : [], location: folder.location });
    (this.account as Account).stats.appends++;
    return `OK [APPENDUID ${folder.uidValidity} ${folder.uids.get(m)}] APPEND completed`;
  }

  /** Writes, waiting for the socket to drain when it is full, so large FETCHes do not pile up in memory. */
  private write(data: string | Buffer): Promise<void> {
    if (this.socket.destroyed || this.socket.writableEnded || this.socket.write(data)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => (this.socket.off('drain', done).off('close', done), resolve());
      this.socket.on('drain', done).on('close', done);
    });
  }
}

function parseFetchItem(atom: string): FetchItem[] {
  const upper = atom.toUpperCase();
  if (upper === 'FAST') return [{ kind: 'FLAGS' }, { kind: 'INTERNALDATE' }, { kind: 'RFC822.SIZE' }];
  if (['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'X-GM-MSGID', 'X-GM-THRID', 'X-GM-LABELS'].includes(upper)) return [{ kind: upper as 'UID' }];
  const m = /^BODY(\.PEEK)?\[([^\]]*)\](?:<(\d+)(?:\.(\d+))?>)?$/i.exec(atom);
  const section = (m?.[2] ?? '').trim();
  const fields = /^HEADER\.FIELDS(\.NOT)?\s*\((.*)\)$/i.exec(section);
  if (!m || !(fields || ['', 'HEADER', 'TEXT'].includes(section.toUpperCase()))) throw new ParseError(`Unsupported FETCH item ${atom}`);
  const origin = m[3] === undefined ? undefined : Number(m[3]);
  const key = `BODY[${section}]${origin === undefined ? '' : `<${origin}>`}`;
  const names = fields?.[2]?.split(/\s+/).filter(Boolean).map((f) => f.replace(/^"|"$/g, '').toLowerCase());
  const length = m[4] === undefined ? undefined : Number(m[4]);
  return [{ kind: 'BODY', key, peek: !!m[1], section: fields ? 'FIELDS' : section.toUpperCase(), fields: names, not: !!fields?.[1], origin, length }];
}

/** Where the header fields end and the body starts: at the first empty line, CRLF or bare LF. */
function splitHeader(raw: Buffer): { fieldsEnd: number; bodyStart: number } {
  const crlf = raw.indexOf('\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return { fieldsEnd: raw.length, bodyStart: raw.length };
  return crlf >= 0 && (lf < 0 || crlf < lf) ? { fieldsEnd: crlf + 1, bodyStart: crlf + 3 } : { fieldsEnd: lf + 1, bodyStart: lf + 2 };
}

function bodySection(raw: Buffer, item: BodyItem): Buffer {
  const { fieldsEnd, bodyStart } = splitHeader(raw);
  let data = item.section === '' ? raw : item.section === 'HEADER' ? raw.subarray(0, bodyStart) : raw.subarray(bodyStart);
  if (item.section === 'FIELDS') {
    // Each field with its folded continuation lines, as latin1 so 8-bit bytes survive.
    const fields = raw.subarray(0, fieldsEnd).toString('latin1').split(/(?<=\n)(?=[^ \t])/);
    const wanted = fields.filter((f) => (item.fields ?? []).includes((/^([^:]*):/.exec(f)?.[1] ?? '').trim().toLowerCase()) !== item.not);
    data = Buffer.from(wanted.join('') + '\r\n', 'latin1');
  }
  return item.origin === undefined ? data : data.subarray(item.origin, item.length === undefined ? undefined : item.origin + item.length);
}

type Matcher = (m: StoredMessage, seq: number, uid: number) => boolean;
const FLAG_KEYS: Record<string, [string, boolean]> = {
  SEEN: ['\\Seen', true], UNSEEN: ['\\Seen', false], FLAGGED: ['\\Flagged', true], UNFLAGGED: ['\\Flagged', false],
  DELETED: ['\\Deleted', true], UNDELETED: ['\\Deleted', false], ANSWERED: ['\\Answered', true], UNANSWERED: ['\\Answered', false],
  DRAFT: ['\\Draft', true], UNDRAFT: ['\\Draft', false],
};

/**
 * A small part of Gmail's query language, enough for tests of X-GM-RAW: space-separated terms, all
 * to hold, each `from:TEXT` (in the From header), `subject:TEXT` or `label:NAME`, `-` before one
 * negating it. Anything else is refused as Gmail refuses a query it cannot read.
 */
function gmailQuery(query: string): Matcher {
  const terms = query.split(/\s+/).filter(Boolean).map((term): Matcher => {
    const negated = term.startsWith('-');
    const m = /^(from|subject|label):(.+)$/i.exec(negated ? term.slice(1) : term);
    if (!m) throw new ParseError(`Unsupported X-GM-RAW term ${term}`);
    const [, op, value] = m as unknown as [string, string, string];
    const header = (msg: StoredMessage, name: string) => (new RegExp(`^${name}:(.*)$`, 'im').exec(msg.raw.toString('latin1'))?.[1] ?? '').toLowerCase();
    const test: Matcher = op.toLowerCase() === 'label'
      ? (msg) => labelsOf(msg).includes(normalizeLabel(value))
      : (msg) => header(msg, op).includes(value.toLowerCase());
    return negated ? (...a) => !test(...a) : test;
  });
  if (terms.length === 0) throw new ParseError('Empty X-GM-RAW query');
  return (...a) => terms.every((t) => t(...a));
}

/** SEARCH keys as a predicate: sets, UID, NOT/OR/(...), flags, keywords, X-GM-MSGID/THRID/LABELS/RAW. */
function compileSearch(tokens: Token[], maxUid: number, maxSeq: number): Matcher {
  let i = 0;
  const arg = () => tokenText(tokens[i++]);
  const one = (): Matcher => {
    const tok = tokens[i++];
    if (!tok) throw new ParseError('Missing search key');
    if (tok.kind === 'list') return compileSearch(tok.items, maxUid, maxSeq);
    const key = tokenText(tok).toUpperCase();
    const flag = FLAG_KEYS[key];
    if (flag) return (m) => m.flags.has(flag[0]) === flag[1];
    switch (key) {
      case 'ALL': return () => true;
      case 'NOT': { const p = one(); return (...a) => !p(...a); }
      case 'OR': { const p = one(); const q = one(); return (...a) => p(...a) || q(...a); }
      case 'UID': { const s = seqSet(arg(), maxUid); return (_m, _seq, uid) => s(uid); }
      case 'KEYWORD': case 'UNKEYWORD': { const k = arg(); return (m) => m.flags.has(k) === (key === 'KEYWORD'); }
      case 'X-GM-MSGID': { const v = arg(); return (m) => m.msgid === v; }
      case 'X-GM-THRID': { const v = arg(); return (m) => m.thrid === v; }
      case 'X-GM-LABELS': { const l = normalizeLabel(decodeName(arg())); return (m) => labelsOf(m).includes(l); }
      case 'X-GM-RAW': return gmailQuery(arg());
      default: {
        if (!/^[\d*:,]+$/.test(key)) throw new ParseError(`Unsupported search key ${key}`);
        const s = seqSet(key, maxSeq);
        return (_m, seq) => s(seq);
      }
    }
  };
  const all: Matcher[] = [];
  while (i < tokens.length) all.push(one());
  if (!all.length) throw new ParseError('Missing search key');
  return (...a) => all.every((p) => p(...a));
}

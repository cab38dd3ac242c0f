import type { FetchMessageObject, FetchQueryObject, ImapFlow, MailboxObject, MessageStructureObject } from 'imapflow';
import type { MimeLeaf } from '../../domain/mime-structure.js';
import type { AppendRequest, FolderStatus, MessageData, MessageMeta } from '../../domain/types.js';
import { headerValue } from '../../domain/headers.js';
import { ConnectionError, FolderError, QuotaError, StreamUnavailableError, UsageError } from '../../errors/errors.js';
import type { AppendOutcome, FolderHandle, ScanRange, StreamedAppend } from '../store.js';
import { classifyImapError, isServerRefusal, refusalText, sessionEnded, sessionLost } from './imap-errors.js';
import { flagList } from './flag-list.js';
import { multiAppend } from './multi-append.js';
import { partialBody, partialFetchPipelined } from './partial-fetch.js';
import { streamedAppend } from './streamed-append.js';
import { uidSet } from './uid-set.js';
import { uidSearch } from './uid-search.js';
import { ScanMemo } from './scan-memo.js';
import type { EarlyAnswer, EarlyScan } from './early-scan.js';

/** A message with its bytes. BODY.PEEK[]: imapflow's `source` never sets \Seen. */
const BODY_QUERY = { uid: true, flags: true, size: true, internalDate: true, labels: true, source: true } as const;

/** A selected IMAP folder on a connection of its own, returned to the pool on close(). */
export class ImapFolderHandle implements FolderHandle {
  readonly status: FolderStatus;
  readonly permanentFlags?: ReadonlySet<string>;
  incomplete?: string;
  private released = false;
  /** Messages brought along by the last scan (`ScanRange.withBodies`), for the next fetch. */
  private prefetched?: Map<number, MessageData>;

  constructor(
    private readonly client: ImapFlow,
    private readonly box: MailboxObject,
    private readonly label: string,
    private readonly release: (client: ImapFlow) => void,
    /** Most messages one command may name (RFC 9738 MESSAGELIMIT, or the provider's profile). */
    private readonly messageLimit?: number,
    /** Full scans shared between openings of a folder in the same state (read-only handles only). */
    private readonly scans?: ScanMemo,
    /** Opened to be read from (a source): a short listing then leaves the folder `incomplete` rather than failing it. */
    private readonly reading = false,
    /** The answer to the first full scan, sent with the EXAMINE (early-scan.ts). */
    private early?: FirstScan,
    /** Whether this server's messages are of their listed sizes, shared by its connections; without it, no streaming. */
    private readonly sizes?: { exact: boolean },
  ) {
    this.status = {
      uidValidity: Number(box.uidValidity),
      uidNext: box.uidNext,
      messages: box.exists,
      highestModseq: box.highestModseq !== undefined ? box.highestModseq.toString() : undefined,
    };
    this.permanentFlags = box.permanentFlags && !box.permanentFlags.has('\\*') ? box.permanentFlags : undefined;
    if (reading && sizes?.exact && partialFetchPipelined) this.fetchStream = (uid, size) => this.streamOut(uid, size);
    if (!reading && client.capabilities.has('LITERAL+')) this.appendStream = (message) => this.streamIn(message);
  }

  readonly fetchStream?: (uid: number, size: number) => AsyncIterable<Buffer>;
  readonly appendStream?: (message: StreamedAppend) => Promise<AppendOutcome>;

  /**
   * A message's bytes in pieces (partial-fetch.ts). A server once seen giving a message of another
   * size than it listed has no message streamed from it again in this run: each would end its
   * APPEND with a dropped connection.
   */
  private async *streamOut(uid: number, size: number): AsyncGenerator<Buffer> {
    const sizes = this.sizes!;
    if (!sizes.exact) throw new StreamUnavailableError(`${this.label} gave a message of another size than it listed; not streaming from it`);
    try {
      this.selected();
      yield* partialBody(this.client, uid, size, { pieceBytes: PIECE_BYTES, ahead: PIECES_AHEAD, onSizeMismatch: () => (sizes.exact = false) });
    } catch (err) {
      if (err instanceof StreamUnavailableError) throw err;
      const failure = classifyImapError(err, this.label, `fetching from ${this.box.path}`, this.client);
      // A refusal of this message alone: read the usual way, which tells a refusal from a message gone.
      if (failure instanceof FolderError && isServerRefusal(err)) throw new StreamUnavailableError(`${this.label} refused part of UID ${uid}: ${refusalText(err)}`);
      throw failure;
    }
  }

  /** A message's APPEND as its bytes arrive (streamed-append.ts); its outcome as `append` gives one. */
  private async streamIn(message: StreamedAppend): Promise<AppendOutcome> {
    this.selected();
    return this.appendOne(streamedAppend(this.client, this.box.path, message));
  }

  async scan(range: ScanRange): Promise<MessageMeta[]> {
    const early = this.early;
    // Asked for this first scan only; unused, it is dropped (the connection answers it in its turn).
    this.early = undefined;
    if (range.uids?.length === 0) return [];
    if (this.selected().exists === 0) return [];
    const state = this.scans && ScanMemo.isFull(range) ? ScanMemo.stateOf(this.box) : undefined;
    const kept = state !== undefined ? this.scans!.take(this.box.path, state) : undefined;
    if (kept) return kept;
    if (this.bringsBodies(range)) return this.scanWithBodies(early?.bodies ? early.answer : undefined);
    const answered = early && !early.bodies && isPlainFull(range) ? early.answer : undefined;
    if (state === undefined) return this.scanServer(range, answered);
    const metas = await this.scanServer(range, answered);
    if (!this.incomplete) this.scans!.keep(this.box.path, state, metas);
    return metas;
  }

  /** `early`: the answer to the same scan, sent with the EXAMINE, for the first attempt. */
  private async scanServer(range: ScanRange, early?: Promise<EarlyAnswer<MessageMeta>>): Promise<MessageMeta[]> {
    const whole = listsAll(range);
    for (let attempt = 1; ; attempt++) {
      const metas = (attempt === 1 ? await this.earlyMessages(early, 'scanning') : undefined) ?? (await this.scanInChunks(range));
      // A server that answers a FETCH of the whole folder with fewer messages than it listed
      // (yet OK) would have the rest taken for expunged: never copied, or removed at the
      // destination by a mirror. Asked once more; still short, a source folder is copied as far
      // as it was listed and marked incomplete, and a destination folder (whose missing rows
      // would have their messages copied twice) is not used.
      const expected = whole ? this.stillListed() : 0;
      if (metas.length >= expected) return metas;
      if (attempt === SHORT_ANSWER_ATTEMPTS) {
        const short = `${this.label} lists ${expected} messages in ${this.box.path} but answered a FETCH of them all with ${metas.length}`;
        if (!this.reading) throw new FolderError(`${short}; the folder is left for a later run`, 'short-answer');
        this.incomplete = short;
        return metas;
      }
    }
  }

  private async scanInChunks(range: ScanRange): Promise<MessageMeta[]> {
    const limit = this.messageLimit;
    if (!limit) return this.scanAnswer(range);
    // A server with a message limit handles only the first `limit` messages a command names, and
    // the rest would silently never be copied: name them in chunks, from a UID SEARCH (whose
    // answer is not limited) when the caller gave a range rather than UIDs.
    const uids = range.uids ?? (await this.uidsFrom(range.fromUid ?? 1));
    const out: MessageMeta[] = [];
    for (let i = 0; i < uids.length; i += limit) out.push(...(await this.scanAnswer({ ...range, uids: uids.slice(i, i + limit) })));
    return out;
  }

  async search(criteria: string): Promise<number[]> {
    try {
      this.selected();
      return await uidSearch(this.client, criteria, this.box.path);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw classifyImapError(err, this.label, `searching ${this.box.path}`, this.client);
    }
  }

  private async uidsFrom(from: number): Promise<number[]> {
    try {
      const found = await this.client.search({ uid: `${from}:*` }, { uid: true });
      // imapflow answers `false` instead of throwing when the session is gone.
      if (!Array.isArray(found)) throw this.lost('searching');
      return found.filter((u) => u >= from).sort((a, b) => a - b);
    } catch (err) {
      throw classifyImapError(err, this.label, `searching ${this.box.path}`, this.client);
    }
  }

  private async scanAnswer(range: ScanRange): Promise<MessageMeta[]> {
    const from = range.fromUid ?? 1;
    const set = range.uids ? uidSet(range.uids) : `${from}:*`;
    try {
      this.selected();
      // Each answer is made a MessageMeta as it arrives, not after all of them (imapflow's
      // fetchAll): a 70,000-message folder would otherwise hold both forms of every message at once.
      const metas = new Map<number, MessageMeta>();
      for await (const m of this.client.fetch(
        set,
        // `labels` asks X-GM-LABELS only of a server that has them (imapflow adds X-GM-MSGID itself).
        { uid: true, flags: true, size: true, internalDate: true, labels: true, ...headerQuery(range) },
        { uid: true, ...(range.changedSince !== undefined ? { changedSince: BigInt(range.changedSince) } : {}) },
      )) {
        // `n:*` also returns the highest message when every UID is below n (RFC 3501 §6.4.8).
        const meta = metaOf(m);
        if (m.uid >= from && meta && !metas.has(m.uid)) {
          metas.set(m.uid, (range.header || range.headerFields) && m.headers ? { ...meta, header: m.headers } : meta);
        }
      }
      this.selected();
      return [...metas.values()].sort((a, b) => a.uid - b.uid);
    } catch (err) {
      throw classifyImapError(err, this.label, `scanning ${this.box.path}`, this.client);
    }
  }

  /**
   * The messages of a scan sent with the EXAMINE, as the same FETCH sent now would give them;
   * undefined where there is none to use (not sent, refused, over its bound).
   */
  private async earlyMessages<T>(early: Promise<EarlyAnswer<T>> | undefined, doing: string): Promise<T[] | undefined> {
    const answer = await early;
    if (answer && 'failed' in answer) throw classifyImapError(answer.failed, this.label, `${doing} ${this.box.path}`, this.client);
    if (!answer || !('messages' in answer)) return undefined;
    // A message missing from the answer counts as such only if the session survived the FETCH.
    this.selected();
    return answer.messages;
  }

  /** Messages a FETCH of the whole folder must answer: those EXAMINE counted and no EXPUNGE took since. */
  private stillListed(): number {
    return Math.min(this.status.messages, this.selected().exists);
  }

  /** A plain full scan of a folder still as listed (`withBodies`), on a server without a message limit. */
  private bringsBodies(range: ScanRange): boolean {
    const listed = range.withBodies;
    if (!listed || !ScanMemo.isFull(range) || this.messageLimit) return false;
    return this.box.uidNext === listed.uidNext && this.box.exists === listed.messages;
  }

  /**
   * The full scan, with every message's bytes kept for the next fetch (`ScanRange.withBodies`). An
   * answer short of the folder's count (or refused) is no listing: a plain scan lists the folder
   * then, and the messages the answer left out are fetched again.
   */
  private async scanWithBodies(early?: Promise<EarlyAnswer<MessageData>>): Promise<MessageMeta[]> {
    const kept = new Map<number, MessageData>();
    const answered = await this.earlyMessages(early, 'fetching from');
    for await (const m of answered ?? this.bodies(['1:*'], undefined, new Map())) kept.set(m.uid, m);
    this.prefetched = kept;
    if (kept.size < this.stillListed()) return this.scanServer({});
    return [...kept.values()].sort((a, b) => a.uid - b.uid).map(({ raw: _raw, ...meta }) => meta);
  }

  /**
   * The messages of these UIDs that are still in the folder. A message missing from the server's
   * answer is taken for expunged only if a second look no longer lists it; one still listed is
   * asked again (alone, if the server refused the FETCH that named it), and one the server again
   * will not give comes back marked `damaged` with why (failed, copied by a later run).
   */
  async *fetch(uids: number[]): AsyncIterable<MessageData> {
    if (uids.length === 0) return;
    const kept = this.prefetched;
    this.prefetched = undefined;
    const sorted = [...new Set(uids)].sort((a, b) => a - b);
    if (kept && sorted.every((u) => kept.has(u))) {
      for (const uid of sorted) yield kept.get(uid)!;
      return;
    }
    const delivered = new Set<number>();
    const refused = new Map<string, string>();
    for await (const m of this.bodies(this.chunked(sorted), new Set(sorted), refused)) {
      delivered.add(m.uid);
      yield m;
    }
    const missing = sorted.filter((u) => !delivered.has(u));
    if (missing.length === 0) return;
    const listed = await this.scanServer({ uids: missing });
    // A refused FETCH may be one message the server cannot give: each is asked alone, so the
    // others of its batch are still copied.
    const sets = refused.size > 0 ? listed.map((m) => String(m.uid)) : this.chunked(listed.map((m) => m.uid));
    const again = new Set<number>();
    const refusedAgain = new Map<string, string>();
    for await (const m of this.bodies(sets, new Set(missing), refusedAgain)) {
      again.add(m.uid);
      yield m;
    }
    for (const meta of listed) {
      if (again.has(meta.uid)) continue;
      const refusal = refusedAgain.get(String(meta.uid));
      const why = refusal !== undefined
        ? `${this.label} refused to give UID ${meta.uid} of ${this.box.path}: ${refusal}`
        : `${this.label} lists UID ${meta.uid} in ${this.box.path} but twice answered a FETCH of it without the message`;
      yield { ...meta, raw: Buffer.alloc(0), damaged: why };
    }
  }

  /** UID sets naming these UIDs, at most the server's message limit in each. */
  private chunked(sorted: number[]): string[] {
    const chunk = this.messageLimit ?? sorted.length;
    const sets: string[] = [];
    for (let i = 0; i < sorted.length; i += chunk) sets.push(uidSet(sorted.slice(i, i + chunk)));
    return sets;
  }

  /**
   * Each message the server answers with its bytes, once, in `sets` (only those in `wanted`, if
   * given). A FETCH the server refuses (a plain NO or BAD; not a throttle, an unavailable backend
   * or a full account) is noted in `refused` by its UID set, with the server's words, and the next
   * set is asked.
   */
  private async *bodies(sets: string[], wanted: ReadonlySet<number> | undefined, refused: Map<string, string>): AsyncIterable<MessageData> {
    const seen = new Set<number>();
    for (const set of sets) {
      try {
        this.selected();
        for await (const m of this.client.fetch(set, BODY_QUERY, { uid: true })) {
          const data = dataOf(m);
          if (!data || seen.has(m.uid) || (wanted && !wanted.has(m.uid))) continue;
          seen.add(m.uid);
          yield data;
        }
        // A message missing from the answer counts as such only if the session survived the FETCH.
        this.selected();
      } catch (err) {
        const failure = classifyImapError(err, this.label, `fetching from ${this.box.path}`, this.client);
        if (!(failure instanceof FolderError) || !isServerRefusal(err)) throw failure;
        refused.set(set, refusalText(err));
      }
    }
  }

  async fetchStructure(uid: number): Promise<MimeLeaf[] | undefined> {
    const m = await this.fetchOne(uid, { uid: true, bodyStructure: true }, 'reading the structure of a message in');
    return m?.bodyStructure ? mimeLeaves(m.bodyStructure) : undefined;
  }

  async fetchSection(uid: number, section: string): Promise<Buffer | undefined> {
    // imapflow sends BODY.PEEK[section] for both: HEADER as `headers`, a part number as `bodyParts`.
    const query = section === 'HEADER' ? { uid: true, headers: true } : { uid: true, bodyParts: [section] };
    const m = await this.fetchOne(uid, query, 'reading part of a message in');
    if (!m) return undefined;
    return section === 'HEADER' ? m.headers : m.bodyParts?.get(section.toLowerCase()) ?? m.bodyParts?.get(section);
  }

  private async fetchOne(uid: number, query: FetchQueryObject, doing: string): Promise<FetchMessageObject | undefined> {
    try {
      this.selected();
      let found: FetchMessageObject | undefined;
      for await (const m of this.client.fetch(String(uid), query, { uid: true })) if (m.uid === uid) found = m;
      this.selected();
      return found;
    } catch (err) {
      throw classifyImapError(err, this.label, `${doing} ${this.box.path}`, this.client);
    }
  }

  async append(messages: AppendRequest[], answered?: (index: number) => void): Promise<AppendOutcome[]> {
    const outcomes = await this.appendAll(messages, answered);
    // A label is kept after the APPEND: an answer lost in between leaves the message pending, and
    // the rerun that finds it sets its labels again (setLabels is idempotent).
    for (const [i, o] of outcomes.entries()) {
      const labels = messages[i]!.labels;
      if (o.ok && o.uid !== undefined && labels && labels.length > 0) await this.setLabels(o.uid, labels);
    }
    return outcomes;
  }

  private async appendAll(messages: AppendRequest[], answered?: (index: number) => void): Promise<AppendOutcome[]> {
    if (messages.length > 1 && this.client.capabilities.has('MULTIAPPEND')) {
      try {
        return (await multiAppend(this.client, this.box.path, messages)).map((uid) => ({ ok: true, uid }));
      } catch (err) {
        const classified = classifyImapError(err, this.label, `appending to ${this.box.path}`, this.client);
        if (classified instanceof QuotaError || !isServerRefusal(err)) throw classified;
        // Refused as a whole, so none was stored: one by one tells which message is refused.
      }
    }
    // One APPEND per message (no MULTIAPPEND: Exchange, Gmail, Courier; or a batch of one), each
    // answer progress. Where the server takes LITERAL+ they go at once, pipelined: one round trip
    // for the batch. imapflow's own APPEND (the only way without LITERAL+) waits for the answer to
    // the one before, and for a "+" before any literal over 4 KB.
    const outcomes: AppendOutcome[] = [];
    const literalPlus = this.client.capabilities.has('LITERAL+');
    const sent = literalPlus ? messages.map((m) => multiAppend(this.client, this.box.path, [m], true).then(([uid]) => uid)) : [];
    // Each is awaited in turn; one that fails after an earlier failure was thrown goes unobserved.
    for (const p of sent) p.catch(() => undefined);
    for (const [i, m] of messages.entries()) {
      outcomes.push(await this.appendOne(sent[i] ?? this.imapflowAppend(m)));
      answered?.(i);
    }
    return outcomes;
  }

  private async imapflowAppend(m: AppendRequest): Promise<number | undefined> {
    const res = await this.client.append(this.box.path, m.raw, m.flags, m.internalDate);
    if (!res) throw Object.assign(new Error('not connected'), { code: 'NoConnection' });
    return res.uid;
  }

  /** The outcome of one message's APPEND: a refusal of that message is one; anything else is thrown. */
  private async appendOne(appended: Promise<number | undefined>): Promise<AppendOutcome> {
    try {
      return { ok: true, uid: await appended };
    } catch (err) {
      const classified = classifyImapError(err, this.label, `appending to ${this.box.path}`, this.client);
      if (classified instanceof QuotaError || !isServerRefusal(err)) throw classified;
      const code = (err as { serverResponseCode?: string }).serverResponseCode;
      // [LIMIT] is any implementation limit (RFC 5530: too many keywords, too many messages); only
      // one about size makes the message too large, which is final (folder-sync.ts liftable).
      const reason = code === 'TOOBIG' || (code === 'LIMIT' && /size|large|big|long|bytes/i.test(refusalText(err))) ? 'too-large' : 'rejected';
      return { ok: false, reason, message: refusalText(err) };
    }
  }

  async setFlags(uid: number, flags: string[]): Promise<void> {
    try {
      // imapflow answers `false` instead of throwing when the session is gone (or ending).
      const done = await this.client.messageFlagsSet(String(uid), flags, { uid: true, silent: true });
      if (!done && sessionEnded(this.client)) throw this.lost('setting flags in');
    } catch (err) {
      throw classifyImapError(err, this.label, `setting flags in ${this.box.path}`, this.client);
    }
  }

  /**
   * `UID STORE +FLAGS.SILENT (\\Deleted)` then `UID EXPUNGE` of exactly these UIDs. Without UIDPLUS
   * only a bare EXPUNGE exists, which would also remove whatever else is marked \\Deleted in the
   * folder, so it is refused.
   */
  async expunge(uids: number[]): Promise<void> {
    if (uids.length === 0) return;
    if (!this.client.capabilities.has('UIDPLUS')) {
      throw new UsageError(`${this.label} has no UIDPLUS: mailferry removes messages only by UID EXPUNGE, never by a bare EXPUNGE`);
    }
    const limit = this.messageLimit ?? uids.length;
    try {
      for (let i = 0; i < uids.length; i += limit) {
        this.selected();
        // imapflow sends UID EXPUNGE (not EXPUNGE) because of `uid` and UIDPLUS, checked above.
        const done = await this.client.messageDelete(uidSet(uids.slice(i, i + limit)), { uid: true });
        if (!done) throw sessionEnded(this.client) ? this.lost('removing messages from') : new Error('the server refused to remove them');
      }
    } catch (err) {
      throw classifyImapError(err, this.label, `removing messages from ${this.box.path}`, this.client);
    }
  }

  async setLabels(uid: number, labels: string[]): Promise<void> {
    if (!this.client.capabilities.has('X-GM-EXT-1')) return;
    try {
      this.selected();
      await this.client.messageFlagsSet(String(uid), labels, { uid: true, silent: true, useLabels: true });
    } catch (err) {
      throw classifyImapError(err, this.label, `setting labels in ${this.box.path}`, this.client);
    }
  }

  /**
   * The folder as the live session has it selected. imapflow answers a command on a session that
   * was dropped (BYE, kick, reset) with an empty result rather than an error, which would read as
   * "no messages" and end a folder with nothing copied: a lost session must throw. A session the
   * server has said BYE to is lost too, though imapflow still calls it usable until it closes.
   */
  private selected(): MailboxObject {
    const box = this.client.mailbox;
    if (sessionEnded(this.client) || !box || box.path !== this.box.path) throw this.lost('reading');
    return box;
  }

  private lost(doing: string): ConnectionError {
    return sessionLost(this.client, this.label, `${doing} ${this.box.path}`);
  }

  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.release(this.client);
  }
}

/** Bytes of a streamed message asked for by each FETCH, and how many such FETCHes are on the wire at once. */
const PIECE_BYTES = 1 << 20;
const PIECES_AHEAD = 4;

/** Times a FETCH of the whole folder is asked before a short answer is taken for all the server will list. */
const SHORT_ANSWER_ATTEMPTS = 2;

/** Whether a scan asks for every message of the folder (its answer can be counted against EXISTS). */
function listsAll(range: ScanRange): boolean {
  return (range.fromUid ?? 1) <= 1 && range.uids === undefined && range.changedSince === undefined;
}

function headerQuery(range: ScanRange): Pick<FetchQueryObject, 'headers'> {
  if (range.header) return { headers: true };
  const fields = [...(range.headerFields ?? []), ...(range.messageIds ? ['message-id'] : [])];
  return fields.length > 0 ? { headers: fields } : {};
}

/** imapflow's BODYSTRUCTURE tree as its leaves; a single-part message's one leaf is part 1. */
function mimeLeaves(node: MessageStructureObject): MimeLeaf[] {
  if (node.childNodes?.length) return node.childNodes.flatMap(mimeLeaves);
  const name = node.dispositionParameters?.filename ?? node.parameters?.name;
  return [
    {
      part: node.part ?? '1',
      type: node.type.toLowerCase(),
      ...(node.parameters?.charset ? { charset: node.parameters.charset } : {}),
      encoding: (node.encoding ?? '7bit').toLowerCase(),
      ...(name ? { name } : {}),
      ...(node.disposition ? { disposition: node.disposition.toLowerCase() } : {}),
      size: node.size ?? 0,
    },
  ];
}

/** A first full scan sent with the folder's EXAMINE: with the messages' bytes, or their metadata only. */
export type FirstScan = ({ bodies: true } & EarlyScan<MessageData>) | ({ bodies: false } & EarlyScan<MessageMeta>);

/** A scan of every message's metadata and nothing more: what a first scan sent with EXAMINE answers. */
export function isPlainFull(range: ScanRange): boolean {
  return ScanMemo.isFull(range) && !range.withBodies;
}

/** A message row of a scan's answer (a row without RFC822.SIZE is another session's flag change, RFC 9051 §7.5.2). */
export function metaOf(m: FetchMessageObject): MessageMeta | undefined {
  return m.size !== undefined ? toMeta(m) : undefined;
}

/** A message row of a FETCH of bytes, with them. */
export function dataOf(m: FetchMessageObject): MessageData | undefined {
  return m.source ? { ...toMeta(m), raw: m.source } : undefined;
}

function toMeta(m: FetchMessageObject): MessageMeta {
  const messageId = m.headers ? headerValue(m.headers, 'message-id') : undefined;
  return {
    ...(messageId ? { messageId } : {}),
    ...(m.emailId ? { emailId: m.emailId } : {}),
    ...(m.labels ? { labels: [...m.labels] } : {}),
    uid: m.uid,
    size: m.size ?? m.source?.length ?? 0,
    flags: flagList(m.flags),
    internalDate: m.internalDate instanceof Date ? m.internalDate : new Date(m.internalDate ?? 0),
  };
}

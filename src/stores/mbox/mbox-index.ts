import { readLineFile } from '../local/line-file.js';
import * as fs from 'node:fs/promises';
import type { FolderStatus } from '../../domain/types.js';
import { writeFileAtomic } from '../local/safe-fs.js';

/**
 * The sidecar index of one mbox file (JSON Lines, under `.mailferry/mbox-index/`, so a mail reader
 * pointed at `mbox/` sees only mailboxes). It is what lets `fetch` give back the exact bytes the
 * server sent: the mbox adds a `From_` line, mboxrd quoting, the flag headers and maybe a final
 * newline, and the index says where and which.
 *
 *   {"mailferry":"mbox-index","version":1,"uidValidity":…,"next":1,"count":0}     first line
 *   {"uid":…,"offset":…,"length":…,"size":…,"sha256":…,"flags":[…],"date":…,
 *    "headers":[at,length],"newline":false,"next":…,"count":…}                    a message
 *   {"uid":…,"flags":[…],"next":…,"count":…}                                      a flag change
 *
 * Only appended to, each line after the mbox bytes it describes are fsynced: the index is the
 * commit record of the mbox. Every line carries the folder's next UID and message count, so the
 * counters are read from the first and last lines alone.
 */

export interface MessageRecord {
  uid: number;
  /** Where the message's `From_` line starts in the mbox. */
  offset: number;
  /** Bytes through the blank line that closes the message. */
  length: number;
  /** The original message's size. */
  size: number;
  sha256: string;
  flags: string[];
  /** INTERNALDATE, epoch milliseconds. */
  date: number;
  /** The added Status/X-Status/X-Keywords block: offset from `offset`, and length. */
  headers: [number, number];
  /** A final LF was added because the message did not end with one. */
  newline: boolean;
}

interface Counters {
  next: number;
  count: number;
}

const MAGIC = 'mbox-index';
const VERSION = 1;
const TAIL_BYTES = 64 * 1024;

export class MboxIndex {
  private constructor(
    private readonly file: string,
    readonly uidValidity: number,
    /** Live messages by UID, in UID (and file) order. */
    readonly messages: Map<number, MessageRecord>,
    private nextUidValue: number,
    /** Bytes of the index file that are whole lines. */
    private size: number,
    /** Bytes of the mbox the index accounts for; anything after is an unfinished append. */
    private endValue: number,
  ) {}

  get nextUid(): number {
    return this.nextUidValue;
  }

  get end(): number {
    return this.endValue;
  }

  /** The index text for a folder holding `messages` (a new folder, or one being compacted). */
  static render(uidValidity: number, messages: readonly MessageRecord[], next: number): string {
    const lines = [JSON.stringify({ mailferry: MAGIC, version: VERSION, uidValidity, next, count: messages.length })];
    messages.forEach((m, i) => lines.push(JSON.stringify({ ...m, next, count: i + 1 })));
    return lines.join('\n') + '\n';
  }

  static async create(file: string, uidValidity: number): Promise<void> {
    await writeFileAtomic(file, MboxIndex.render(uidValidity, [], 1));
  }

  /**
   * UIDVALIDITY, next UID and message count from the first and last whole lines, and where the
   * mbox should end from the last message line in the tail (undefined if none is there: a long
   * run of flag changes, or no message).
   */
  static async counters(file: string): Promise<(FolderStatus & { end?: number }) | undefined> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      const head = Buffer.alloc(Math.min(size, 4096));
      await handle.read(head, 0, head.length, 0);
      const header = parseHeader(head.toString('utf8').split('\n')[0] ?? '');
      if (!header) return undefined;
      const tail = Buffer.alloc(Math.min(size, TAIL_BYTES));
      await handle.read(tail, 0, tail.length, size - tail.length);
      const text = tail.toString('utf8');
      const lines = text.slice(0, text.lastIndexOf('\n')).split('\n');
      const last = parseLine(lines[lines.length - 1] ?? '');
      const c: Counters = last && 'next' in last ? last : header;
      let end: number | undefined = c.count === 0 ? 0 : undefined;
      for (let i = lines.length - 1; i >= 1 && end === undefined; i--) {
        const rec = parseLine(lines[i]!);
        if (rec && 'offset' in rec) end = rec.offset + rec.length;
      }
      return { uidValidity: header.uidValidity, uidNext: c.next, messages: c.count, end };
    } finally {
      await handle.close();
    }
  }

  /**
   * The whole index, or undefined when it is missing or damaged. A torn last line (a run killed
   * while appending it) is ignored, and cut off when `repair` is set.
   */
  static async load(file: string, repair: boolean): Promise<MboxIndex | undefined> {
    const read = await readLineFile(file);
    if (!read) return undefined;
    const { lines } = read;
    const header = parseHeader(lines[0] ?? '');
    if (!header) return undefined;
    const messages = new Map<number, MessageRecord>();
    let next = header.next;
    let end = 0;
    let lastUid = 0;
    for (const line of lines.slice(1)) {
      const rec = parseLine(line);
      if (!rec) return undefined;
      if ('offset' in rec) {
        // Appends are contiguous and in UID order; anything else is not an index we wrote.
        if (rec.offset !== end || rec.uid <= lastUid) return undefined;
        end = rec.offset + rec.length;
        lastUid = rec.uid;
        messages.set(rec.uid, messageOf(rec));
      } else {
        const known = messages.get(rec.uid);
        if (known) known.flags = rec.flags;
      }
      next = Math.max(next, rec.next, lastUid + 1);
    }
    const size = read.completeBytes;
    if (repair && read.torn) await fs.truncate(file, size);
    return new MboxIndex(file, header.uidValidity, messages, next, size, end);
  }

  /** Records appended messages (their bytes are already fsynced in the mbox). */
  async addMessages(records: readonly MessageRecord[]): Promise<void> {
    const lines: string[] = [];
    for (const r of records) {
      this.messages.set(r.uid, r);
      this.nextUidValue = Math.max(this.nextUidValue, r.uid + 1);
      this.endValue = Math.max(this.endValue, r.offset + r.length);
      lines.push(JSON.stringify({ ...r, ...this.counterFields() }));
    }
    await this.append(lines);
  }

  /** Gives out the next UID. */
  takeUid(): number {
    return this.nextUidValue++;
  }

  async setFlags(uid: number, flags: string[]): Promise<void> {
    const m = this.messages.get(uid);
    if (!m) return;
    m.flags = flags;
    await this.append([JSON.stringify({ uid, flags, ...this.counterFields() })]);
  }

  private counterFields(): Counters {
    return { next: this.nextUidValue, count: this.messages.size };
  }

  private async append(lines: string[]): Promise<void> {
    const data = Buffer.from(lines.map((l) => l + '\n').join(''));
    const handle = await fs.open(this.file, 'r+');
    try {
      await handle.write(data, 0, data.length, this.size);
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.size += data.length;
  }
}

function parseHeader(line: string): { uidValidity: number; next: number; count: number } | undefined {
  try {
    const h = JSON.parse(line) as Record<string, unknown>;
    if (h.mailferry !== MAGIC || h.version !== VERSION) return undefined;
    if (!isCount(h.uidValidity) || !isCount(h.next) || !isCount(h.count)) return undefined;
    return { uidValidity: h.uidValidity, next: h.next, count: h.count };
  } catch {
    return undefined;
  }
}

type Line = (MessageRecord & Counters) | { uid: number; flags: string[]; next: number; count: number };

function parseLine(line: string): Line | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!isCount(r.uid) || !isCount(r.next) || !isCount(r.count) || !Array.isArray(r.flags) || !r.flags.every((f) => typeof f === 'string')) return undefined;
  if (!('offset' in r)) return r as Line;
  const h = r.headers;
  const ok = isCount(r.offset) && isCount(r.length) && isCount(r.size) && typeof r.sha256 === 'string' && typeof r.date === 'number' &&
    Array.isArray(h) && h.length === 2 && isCount(h[0]) && isCount(h[1]) && typeof r.newline === 'boolean';
  return ok ? (r as Line) : undefined;
}

function messageOf(r: MessageRecord): MessageRecord {
  return { uid: r.uid, offset: r.offset, length: r.length, size: r.size, sha256: r.sha256, flags: r.flags, date: r.date, headers: r.headers, newline: r.newline };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

import { readLineFile } from '../local/line-file.js';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../local/safe-fs.js';

/**
 * A folder's UIDs, kept in Dovecot's own `dovecot-uidlist` (version 3), so mailferry and a
 * Dovecot pointed at the backup agree on UIDVALIDITY and every message's UID:
 *
 *   3 V<uidvalidity> N<next uid> G<mailbox guid> M<messages>
 *   <uid> :<base file name>
 *
 * The base name is the file name before `:2,`, which flag changes never touch. Dovecot matches
 * records by base name, keeps unknown header fields (`M`), and accepts records past `N`.
 *
 * mailferry writes N and M as ten digits, so appending a batch is one write of the new records
 * plus one in-place write of the fixed-width header, fsynced together: a rerun learns a folder's
 * counters from the first line alone. A file in another shape (Dovecot rewrote it) is read in
 * full and rewritten in this shape the next time the folder is written.
 */

export const UIDLIST_FILE = 'dovecot-uidlist';

const HEADER = /^3 V(\d+) N(\d{10}) G([0-9a-f]{32}) M(\d{10})$/;
const ANY_HEADER = /^([13]) (.*)$/;

export interface UidListHeader {
  uidValidity: number;
  nextUid: number;
  messages: number;
}

/** The counters from the first line, or undefined when the file is missing or not in our shape. */
export async function readUidListHeader(dir: string): Promise<UidListHeader | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path.join(dir, UIDLIST_FILE), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const buf = Buffer.alloc(128);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const line = buf.subarray(0, bytesRead).toString('utf8').split('\n')[0]!;
    const m = HEADER.exec(line);
    return m ? { uidValidity: Number(m[1]), nextUid: Number(m[2]), messages: Number(m[4]) } : undefined;
  } finally {
    await handle.close();
  }
}

export class UidList {
  private constructor(
    private readonly file: string,
    readonly uidValidity: number,
    private nextUidValue: number,
    private readonly guid: string,
    /** Base name → UID. */
    readonly uids: Map<string, number>,
    /** Byte length of the file when it is in our shape; undefined means "rewrite before appending". */
    private size: number | undefined,
  ) {}

  get nextUid(): number {
    return this.nextUidValue;
  }

  /** A new, empty list for a new folder, written at once. */
  static async create(dir: string, uidValidity: number): Promise<UidList> {
    const list = new UidList(path.join(dir, UIDLIST_FILE), uidValidity, 1, randomBytes(16).toString('hex'), new Map(), undefined);
    await list.rewrite(0);
    return list;
  }

  /**
   * The folder's list, or undefined when it is missing or unreadable (the caller then starts a
   * new UIDVALIDITY, as Dovecot does with a broken list). A torn last line from a crash mid-append
   * is ignored; the next write removes it.
   */
  static async load(dir: string): Promise<UidList | undefined> {
    const file = path.join(dir, UIDLIST_FILE);
    const read = await readLineFile(file);
    if (!read) return undefined;
    const { lines } = read;
    const header = ANY_HEADER.exec(lines[0] ?? '');
    if (!header) return undefined;
    const fields = parseHeader(header[1]!, header[2]!);
    if (!fields) return undefined;

    const uids = new Map<string, number>();
    let last = 0;
    for (const line of lines.slice(1)) {
      const rec = parseRecord(line, header[1] === '1');
      if (!rec || rec.uid <= last) return undefined;
      last = rec.uid;
      uids.set(rec.base, rec.uid);
    }
    const ours = HEADER.test(lines[0]!) && !read.torn;
    // Dovecot's rule too: records past N are valid, and N follows them.
    const next = Math.max(fields.nextUid, last + 1);
    return new UidList(file, fields.uidValidity, next, fields.guid, uids, ours ? read.completeBytes : undefined);
  }

  /** Whether the file must be rewritten before it can be appended to. */
  get needsRewrite(): boolean {
    return this.size === undefined;
  }

  /**
   * Gives the next UIDs to `bases` in order and makes them durable with the new header;
   * `messages` is the folder's message count afterwards.
   */
  async append(bases: readonly string[], messages: number): Promise<number[]> {
    const uids = bases.map((base) => {
      const uid = this.nextUidValue++;
      this.uids.set(base, uid);
      return uid;
    });
    if (this.size === undefined) {
      await this.rewrite(messages);
      return uids;
    }
    const records = Buffer.from(bases.map((b, i) => `${uids[i]} :${b}\n`).join(''), 'utf8');
    const handle = await fs.open(this.file, 'r+');
    try {
      await handle.write(records, 0, records.length, this.size);
      const header = Buffer.from(this.header(messages), 'utf8');
      await handle.write(header, 0, header.length, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.size += records.length;
    return uids;
  }

  /** Forgets `bases` (their files are gone) and rewrites the whole list. */
  async remove(bases: readonly string[], messages: number): Promise<void> {
    for (const b of bases) this.uids.delete(b);
    await this.rewrite(messages);
  }

  /** Writes the whole list in our shape, atomically; records are those of `uids`. */
  async rewrite(messages: number): Promise<void> {
    const records = [...this.uids].sort((a, b) => a[1] - b[1]).map(([base, uid]) => `${uid} :${base}\n`);
    const text = this.header(messages) + records.join('');
    await writeFileAtomic(this.file, Buffer.from(text, 'utf8'));
    this.size = Buffer.byteLength(text, 'utf8');
  }

  private header(messages: number): string {
    const ten = (n: number): string => String(n).padStart(10, '0');
    return `3 V${this.uidValidity} N${ten(this.nextUidValue)} G${this.guid} M${ten(messages)}\n`;
  }
}

function parseHeader(version: string, rest: string): { uidValidity: number; nextUid: number; guid: string } | undefined {
  if (version === '1') {
    const m = /^(\d+) (\d+)$/.exec(rest);
    return m ? { uidValidity: Number(m[1]), nextUid: Number(m[2]), guid: randomBytes(16).toString('hex') } : undefined;
  }
  let uidValidity = 0;
  let nextUid = 0;
  let guid = '';
  for (const field of rest.split(' ').filter(Boolean)) {
    const value = field.slice(1);
    if (field[0] === 'V') uidValidity = Number(value);
    else if (field[0] === 'N') nextUid = Number(value);
    else if (field[0] === 'G' && /^[0-9a-f]{32}$/.test(value)) guid = value;
  }
  if (!(uidValidity > 0) || !(nextUid > 0)) return undefined;
  return { uidValidity, nextUid, guid: guid || randomBytes(16).toString('hex') };
}

/**
 * `<uid> [<key><value> ...] :<file name>` (v3, parsed as Dovecot does: space-separated extension
 * fields up to the one that starts with ':') or `<uid> <file name>` (v1).
 */
function parseRecord(line: string, v1: boolean): { uid: number; base: string } | undefined {
  const m = /^(\d+) (.+)$/.exec(line);
  if (!m) return undefined;
  let name = m[2]!;
  if (!v1) {
    let i = 0;
    while (i < name.length && name[i] !== ':') {
      while (i < name.length && name[i] !== ' ') i++;
      while (name[i] === ' ') i++;
    }
    if (name[i] !== ':' || i + 1 >= name.length) return undefined;
    name = name.slice(i + 1);
  }
  const colon = name.indexOf(':');
  return { uid: Number(m[1]), base: colon >= 0 ? name.slice(0, colon) : name };
}

import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AppendRequest, FolderStatus, MessageData, MessageMeta } from '../../domain/types.js';
import { FolderError } from '../../errors/errors.js';
import { guarded } from '../local/local-errors.js';
import { createExclusive, fsyncDir, writeFileAtomic } from '../local/safe-fs.js';
import type { LocalFolder } from '../local/local-store.js';
import { Serial } from '../local/serial.js';
import type { AppendOutcome, ScanRange } from '../store.js';
import { MboxIndex, type MessageRecord } from './mbox-index.js';
import { fromLine, headerEnd, lineEndingAt, quoteParts, unquote } from './mboxrd.js';
import { statusHeaders } from './status-headers.js';

/** Suffixes of a compaction in progress (backup --mirror), beside the mbox and its index. */
const COMPACT = '.compact';
const COMPACTING = '.compacting';

/**
 * One mbox folder, opened: an mboxrd file plus its index (see mbox-index.ts). Appends go to the
 * end of the file, fsynced, and are committed by the index line written after them; opening for
 * write cuts off whatever a killed run appended past the last committed message, so the file
 * always parses. Flag changes rewrite the fixed-width flag headers in place. The store opens a
 * folder once however many handles use it, and its operations run one at a time.
 */
export class MboxFolder implements LocalFolder {
  private readonly serial = new Serial();

  private constructor(
    private readonly file: string,
    private readonly indexFile: string,
    private readonly writable: boolean,
    private index: MboxIndex,
    private mbox: fs.FileHandle,
    /** Messages past the end of an mbox that was cut short (its index says more). */
    private lost: Set<number>,
  ) {}

  static async open(file: string, indexFile: string, mode: 'read' | 'write'): Promise<MboxFolder> {
    const writable = mode === 'write';
    if (writable) await finishCompaction(file, indexFile);
    else if (await exists(indexFile + COMPACTING)) throw new FolderError(`${file}: a compaction was interrupted; run a backup to finish it`, 'interrupted-compaction');
    const index = await MboxIndex.load(indexFile, writable);
    if (!index) throw new FolderError(`${indexFile} is missing or damaged`, 'damaged-index');
    const mbox = await fs.open(file, (writable ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NOFOLLOW);
    // Shorter than its index says (cut short by hand or a broken copy): the messages past the cut
    // are lost; reading them reports them damaged, and a backup copies them again (expunge).
    const lost = new Set<number>();
    try {
      const { size } = await mbox.stat();
      for (const m of index.messages.values()) if (m.offset + m.length > size) lost.add(m.uid);
      if (writable && size > index.end) {
        await mbox.truncate(index.end);
        await mbox.sync();
      }
    } catch (err) {
      await mbox.close();
      throw err;
    }
    return new MboxFolder(file, indexFile, writable, index, mbox, writable ? lost : new Set());
  }

  get lostCopies(): ReadonlySet<number> {
    return this.lost;
  }

  counters(): FolderStatus {
    return { uidValidity: this.index.uidValidity, uidNext: this.index.nextUid, messages: this.index.messages.size };
  }

  async scan(range: ScanRange): Promise<MessageMeta[]> {
    const from = range.fromUid ?? 1;
    const wanted = range.uids ? new Set(range.uids) : undefined;
    return [...this.index.messages.values()]
      .filter((m) => m.uid >= from && (!wanted || wanted.has(m.uid)))
      .map((m) => ({ uid: m.uid, size: m.size, flags: [...m.flags], internalDate: new Date(m.date) }));
  }

  /** The original bytes: the stored message minus the added headers, unquoted, minus an added newline. */
  async *fetch(uids: number[]): AsyncIterable<MessageData> {
    for (const uid of [...uids].sort((a, b) => a - b)) {
      // One message at a time under the folder's turn, never across a yield.
      const message = await this.serial.run(() => guarded(`reading ${this.file}`, async () => {
        const m = this.index.messages.get(uid);
        if (!m || this.lost.has(uid)) return undefined;
        const { raw, damaged } = await this.original(m);
        return { uid, size: raw.length, flags: [...m.flags], internalDate: new Date(m.date), raw, ...(damaged ? { damaged } : {}) };
      }));
      if (message) yield message;
    }
  }

  append(messages: AppendRequest[]): Promise<AppendOutcome[]> {
    this.mustWrite();
    return this.serial.run(() => guarded(`writing to ${this.file}`, async () => {
      let offset = this.index.end;
      const chunks: Buffer[] = [];
      const records: MessageRecord[] = [];
      for (const m of messages) {
        const { parts, length, headers, newline } = encode(m);
        records.push({
          uid: this.index.takeUid(),
          offset,
          length,
          size: m.raw.length,
          sha256: createHash('sha256').update(m.raw).digest('hex'),
          flags: [...m.flags],
          date: m.internalDate.getTime(),
          headers,
          newline,
        });
        chunks.push(...parts);
        offset += length;
      }
      try {
        await writeAll(this.mbox, chunks, this.index.end);
        await this.mbox.sync();
      } catch (err) {
        // A mail reader must not see half a message (a full disk): cut back to what the index holds.
        await this.mbox.truncate(this.index.end).catch(() => undefined);
        throw err;
      }
      await this.index.addMessages(records);
      return records.map((r): AppendOutcome => ({ ok: true, uid: r.uid }));
    }));
  }

  setFlags(uid: number, flags: string[]): Promise<void> {
    this.mustWrite();
    return this.serial.run(() => guarded(`setting flags in ${this.file}`, async () => {
      const m = this.index.messages.get(uid);
      if (!m) return;
      const [at, length] = m.headers;
      const old = Buffer.alloc(length);
      await this.mbox.read(old, 0, length, m.offset + at);
      const block = statusHeaders(flags, old.includes('\r\n') ? '\r\n' : '\n', length);
      await this.mbox.write(block, 0, block.length, m.offset + at);
      await this.mbox.sync();
      await this.index.setFlags(uid, [...flags]);
    }));
  }

  /**
   * Removes messages (backup --mirror) by writing the kept ones to a new mbox and index, then
   * swapping both under a marker file, so a crash at any point finishes or undoes the swap.
   */
  expunge(uids: number[]): Promise<void> {
    this.mustWrite();
    return this.serial.run(() => guarded(`removing messages from ${this.file}`, async () => {
      const gone = new Set(uids.filter((uid) => this.index.messages.has(uid)));
      if (gone.size === 0) return;
      await removeIfPresent(this.file + COMPACT, this.indexFile + COMPACT);
      const out = await createExclusive(this.file + COMPACT);
      const kept: MessageRecord[] = [];
      try {
        let offset = 0;
        for (const m of this.index.messages.values()) {
          if (gone.has(m.uid)) continue;
          const bytes = Buffer.alloc(m.length);
          await this.mbox.read(bytes, 0, m.length, m.offset);
          await out.write(bytes);
          kept.push({ ...m, offset });
          offset += m.length;
        }
        await out.sync();
      } finally {
        await out.close();
      }
      const newIndex = await createExclusive(this.indexFile + COMPACT);
      try {
        await newIndex.writeFile(MboxIndex.render(this.index.uidValidity, kept, this.index.nextUid));
        await newIndex.sync();
      } finally {
        await newIndex.close();
      }
      await writeFileAtomic(this.indexFile + COMPACTING, '');
      await this.mbox.close();
      await finishCompaction(this.file, this.indexFile);
      const index = await MboxIndex.load(this.indexFile, true);
      if (!index) throw new FolderError(`${this.indexFile} is damaged after compaction`, 'damaged-index');
      this.index = index;
      this.lost = new Set([...this.lost].filter((uid) => index.messages.has(uid)));
      this.mbox = await fs.open(this.file, constants.O_RDWR | constants.O_NOFOLLOW);
    }));
  }

  async close(): Promise<void> {
    await this.mbox.close();
  }

  /** The message as the server sent it, or what is left of it and why it is not that. */
  private async original(m: MessageRecord): Promise<{ raw: Buffer; damaged?: string }> {
    const stored = Buffer.alloc(m.length);
    const { bytesRead } = await this.mbox.read(stored, 0, m.length, m.offset);
    if (bytesRead < m.length) return { raw: stored.subarray(0, bytesRead), damaged: `${this.file} ends inside message UID ${m.uid} (cut short)` };
    const fromLength = stored.indexOf(0x0a) + 1;
    // Without the From_ line and the closing blank line; the added headers sit at `at`.
    const content = stored.subarray(fromLength, m.length - 1);
    const at = m.headers[0] - fromLength;
    const quoted = Buffer.concat([content.subarray(0, at), content.subarray(at + m.headers[1])]);
    const body = unquote(quoted);
    const raw = m.newline ? body.subarray(0, body.length - 1) : body;
    if (createHash('sha256').update(raw).digest('hex') !== m.sha256) {
      return { raw, damaged: `${this.file}: message UID ${m.uid} at offset ${m.offset} does not match its checksum` };
    }
    return { raw };
  }

  private mustWrite(): void {
    if (!this.writable) throw new Error(`${this.file} was opened read-only`);
  }
}

/**
 * One message as stored: `From_` line, the message with a final newline (added if missing) and
 * `From ` lines quoted, the flag headers inserted where the header section ends, a blank line.
 * As pieces of the message rather than a copy of it.
 */
function encode(m: AppendRequest): { parts: Buffer[]; length: number; headers: [number, number]; newline: boolean } {
  const newline = m.raw.length > 0 && m.raw[m.raw.length - 1] !== 0x0a;
  const raw = newline ? Buffer.concat([m.raw, LF]) : m.raw;
  // The header section ends at a line start, and quoting only adds `>` to non-blank lines, so
  // quoting both halves apart is quoting the whole, and the halves meet where the headers end.
  const at = headerEnd(raw);
  const head = quoteParts(raw.subarray(0, at));
  const from = fromLine(m.raw, m.internalDate);
  const headers = statusHeaders(m.flags, lineEndingAt(raw, at));
  const parts = [from, ...head, headers, ...quoteParts(raw.subarray(at)), LF];
  return { parts, length: byteLength(parts), headers: [from.length + byteLength(head), headers.length], newline };
}

/**
 * Writes every piece at `position`. libuv stops short when the disk fills up (it reports the
 * bytes written, not ENOSPC); writing the rest then fails with the error that says why. Bytes past
 * the index's end are never read, and cut off when the folder is next opened for writing.
 */
async function writeAll(file: fs.FileHandle, chunks: Buffer[], position: number): Promise<void> {
  const total = byteLength(chunks);
  const { bytesWritten } = await file.writev(chunks, position);
  if (bytesWritten === total) return;
  const rest = Buffer.concat(chunks).subarray(bytesWritten);
  for (let done = 0; done < rest.length; ) {
    const { bytesWritten: n } = await file.write(rest, done, rest.length - done, position + bytesWritten + done);
    if (n === 0) throw Object.assign(new Error(`short write: ${bytesWritten + done} of ${total} bytes`), { code: 'ENOSPC' });
    done += n;
  }
}

const LF = Buffer.from('\n');
const byteLength = (parts: Buffer[]): number => parts.reduce((n, p) => n + p.length, 0);

/**
 * Completes a compaction whose marker exists (both new files are whole: move them in), or
 * discards one that never reached its marker. Idempotent, so safe after a crash at any step.
 */
async function finishCompaction(file: string, indexFile: string): Promise<void> {
  if (await exists(indexFile + COMPACTING)) {
    for (const target of [indexFile, file]) {
      if (await exists(target + COMPACT)) await fs.rename(target + COMPACT, target);
    }
    await fsyncDir(path.dirname(indexFile));
    await fsyncDir(path.dirname(file));
    await fs.rm(indexFile + COMPACTING, { force: true });
    await fsyncDir(path.dirname(indexFile));
  } else {
    await removeIfPresent(file + COMPACT, indexFile + COMPACT);
  }
}

async function removeIfPresent(...files: string[]): Promise<void> {
  for (const f of files) await fs.rm(f, { force: true });
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

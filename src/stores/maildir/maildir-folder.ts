import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AppendRequest, FolderStatus, MessageData, MessageMeta } from '../../domain/types.js';
import type { AppendOutcome, ScanRange, StreamedAppend } from '../store.js';
import { guarded } from '../local/local-errors.js';
import type { LocalFolder } from '../local/local-store.js';
import { createExclusive, fsyncDir, inParallel } from '../local/safe-fs.js';
import { Serial } from '../local/serial.js';
import { Keywords } from './keywords.js';
import { OWN_NAME, SYSTEM_FLAGS, baseOf, flagsOf, infoFor, keywordsIn, recordedSize, uniqueBase } from './maildir-names.js';
import { UidList, type UidListHeader } from './uid-list.js';

type Sub = 'cur' | 'new';

interface Entry {
  sub: Sub;
  name: string;
}

/**
 * Takes the folder's seal as it is closed (`folder-seal.ts`), given how to tell whether every
 * message the UID list counts is there whole.
 */
export type Sealer = (isWhole: (header: UidListHeader) => Promise<boolean>) => Promise<void>;

/** Messages written (and fsynced) at once; the device queue overlaps their flushes. */
const WRITE_PARALLELISM = 8;
/** Message files whose size is checked at once on opening: the thread pool's stats overlap. */
const STAT_PARALLELISM = 16;

/**
 * One Maildir folder, opened. Messages are files in `cur/` (and `new/`, should anything deliver
 * there); their UIDs come from `dovecot-uidlist`. Opening reconciles the list with the files: a
 * file the list does not name (a run killed after moving it into `cur/`) gets the next UID, and in
 * write mode our own leftovers in `tmp/` are deleted. A read-only open never changes the folder.
 * The store opens a folder once however many handles use it, and its operations run one at a time.
 */
export class MaildirFolder implements LocalFolder {
  private readonly serial = new Serial();

  private constructor(
    private readonly dir: string,
    private readonly writable: boolean,
    private readonly uidList: UidList,
    private readonly keywords: Keywords,
    private readonly entries: Map<number, Entry>,
    private nextUid: number,
    /** Listed UIDs whose file is gone or was cut short (set aside), by UID: their base names. */
    private readonly lost: Map<number, string>,
    private readonly seal: Sealer | undefined,
  ) {}

  /**
   * `sealed`: the folder was found still as sealed (`folder-seal.ts`), so every file its list
   * counts was whole when it was sealed and none has been added, removed or renamed since. Its
   * files' sizes are then not looked at again, as its listing does not look at them either: a
   * folder of 70,000 messages opened for a night's new mail took 4 s of one stat after another.
   */
  static async open(dir: string, mode: 'read' | 'write', seal?: Sealer, sealed = false): Promise<MaildirFolder> {
    const writable = mode === 'write';
    const uidList = await UidList.load(dir);
    if (!uidList) throw new Error(`${path.join(dir, 'dovecot-uidlist')} is missing or damaged`);
    const keywords = await Keywords.load(dir);
    if (writable) await removeOwnTemporaries(dir);

    const byBase = new Map<string, Entry>();
    for (const sub of ['new', 'cur'] as const) {
      for (const name of await fs.readdir(path.join(dir, sub))) {
        if (!name.startsWith('.')) byBase.set(baseOf(name), { sub, name });
      }
    }
    const lost = new Map<number, string>();
    if (writable) {
      if (!sealed) {
        const cut: string[] = [];
        const listed = [...byBase].filter(([base]) => uidList.uids.has(base));
        await inParallel(listed, STAT_PARALLELISM, async ([base, entry]) => {
          if (await isCutShort(path.join(dir, entry.sub, entry.name))) cut.push(base);
        });
        for (const base of cut) {
          await setAside(dir, byBase.get(base)!);
          byBase.delete(base);
        }
      }
      for (const [base, uid] of uidList.uids) if (!byBase.has(base)) lost.set(uid, base);
    }
    const entries = new Map<number, Entry>();
    const unlisted: string[] = [];
    for (const [base, entry] of byBase) {
      const uid = uidList.uids.get(base);
      if (uid === undefined) unlisted.push(base);
      else entries.set(uid, entry);
    }
    unlisted.sort();
    let nextUid = uidList.nextUid;
    if (writable && (unlisted.length > 0 || uidList.needsRewrite)) {
      if (uidList.needsRewrite) {
        // Dovecot's list, rewritten in our shape. Records of vanished files stay until the engine
        // has journaled them as lost (expunge drops them); UIDs are never reused.
        await uidList.rewrite(entries.size + lost.size);
      }
      if (unlisted.length > 0) {
        // The count keeps including the lost until they are expunged, so a rerun still notices them.
        const uids = await uidList.append(unlisted, entries.size + lost.size + unlisted.length);
        unlisted.forEach((base, i) => entries.set(uids[i]!, byBase.get(base)!));
      }
      nextUid = uidList.nextUid;
    } else {
      for (const base of unlisted) entries.set(nextUid++, byBase.get(base)!);
    }
    return new MaildirFolder(dir, writable, uidList, keywords, entries, nextUid, lost, writable ? seal : undefined);
  }

  get lostCopies(): ReadonlySet<number> {
    return new Set(this.lost.keys());
  }

  counters(): FolderStatus {
    return { uidValidity: this.uidList.uidValidity, uidNext: this.nextUid, messages: this.entries.size };
  }

  /** System flags and the keywords this folder has letters for; any new keyword while letters last. */
  get permanentFlags(): ReadonlySet<string> {
    return new Set([...SYSTEM_FLAGS, ...this.keywords.known(), ...(this.keywords.full ? [] : ['\\*'])]);
  }

  scan(range: ScanRange): Promise<MessageMeta[]> {
    return this.serial.run(() => guarded(`scanning ${this.dir}`, async () => {
      const from = range.fromUid ?? 1;
      const uids = (range.uids ?? [...this.entries.keys()]).filter((uid) => uid >= from && this.entries.has(uid)).sort((a, b) => a - b);
      const metas: MessageMeta[] = [];
      for (const uid of uids) {
        const entry = this.entries.get(uid)!;
        const st = await statOrUndefined(this.pathOf(entry));
        if (st) metas.push({ uid, size: st.size, flags: flagsOf(entry.name, this.keywords), internalDate: st.mtime });
      }
      return metas;
    }));
  }

  /** One message at a time under the folder's turn, never across a yield, so a consumer may use other handles meanwhile. */
  async *fetch(uids: number[]): AsyncIterable<MessageData> {
    for (const uid of [...uids].sort((a, b) => a - b)) {
      const message = await this.serial.run(() => guarded(`reading ${this.dir}`, async () => {
        const entry = this.entries.get(uid);
        if (!entry) return undefined;
        const file = this.pathOf(entry);
        const st = await statOrUndefined(file);
        if (!st) return undefined;
        const raw = await fs.readFile(file);
        const recorded = recordedSize(entry.name);
        const damaged = recorded !== undefined && recorded !== raw.length ? `${file} is ${raw.length} bytes; the message had ${recorded}` : undefined;
        return { uid, size: raw.length, flags: flagsOf(entry.name, this.keywords), internalDate: st.mtime, raw, ...(damaged ? { damaged } : {}) };
      }));
      if (message) yield message;
    }
  }

  /**
   * Each message: written to `tmp/` (O_EXCL, 0600), given mtime = INTERNALDATE (which is what
   * Dovecot serves as INTERNALDATE), fsynced, renamed into `cur/` with its flags. Then `cur/` is
   * fsynced and the new UIDs made durable, and only then are the outcomes returned, so the engine
   * commits its checkpoint after the messages are safe.
   */
  append(messages: AppendRequest[]): Promise<AppendOutcome[]> {
    this.mustWrite();
    return this.serial.run(() => guarded(`writing to ${this.dir}`, async () => {
      await this.keywords.add(messages.flatMap((m) => keywordsIn(m.flags)));
      const files = messages.map((m) => {
        const base = uniqueBase(m.raw.length);
        return { m, base, name: `${base}:${infoFor(m.flags, this.keywords)}` };
      });
      try {
        await inParallel(files, WRITE_PARALLELISM, async ({ m, base }) => {
          const handle = await createExclusive(path.join(this.dir, 'tmp', base));
          try {
            await handle.writeFile(m.raw);
            // Before the fsync, so the INTERNALDATE is as durable as the bytes.
            await handle.utimes(m.internalDate, m.internalDate);
            await handle.sync();
          } finally {
            await handle.close();
          }
        });
      } catch (err) {
        // A full disk: none of the batch is left behind in tmp/ (a kill leaves it to the next opening).
        for (const f of files) await fs.rm(path.join(this.dir, 'tmp', f.base), { force: true });
        throw err;
      }
      return this.commit(files);
    }));
  }

  /**
   * A message written as its bytes arrive (a streamed FETCH): into `tmp/` as they come, then
   * committed as `append` commits. Only the commit waits its turn among the folder's operations:
   * a big message crawling in does not hold up the other writers of the folder. A body that fails
   * or ends at another size leaves nothing behind.
   */
  async appendStream(message: StreamedAppend): Promise<AppendOutcome> {
    this.mustWrite();
    const base = uniqueBase(message.size);
    const tmp = path.join(this.dir, 'tmp', base);
    await guarded(`writing to ${this.dir}`, async () => {
      const handle = await createExclusive(tmp);
      try {
        let written = 0;
        for await (const chunk of message.body) {
          written += chunk.length;
          if (written > message.size) break;
          await handle.write(chunk);
        }
        if (written !== message.size) throw new Error(`a message of ${message.size} bytes arrived with ${written > message.size ? 'more' : written}`);
        await handle.utimes(message.internalDate, message.internalDate);
        await handle.sync();
      } catch (err) {
        await handle.close();
        await fs.rm(tmp, { force: true });
        throw err;
      }
      await handle.close();
    });
    return this.serial.run(() => guarded(`writing to ${this.dir}`, async () => {
      await this.keywords.add(keywordsIn(message.flags));
      const [outcome] = await this.commit([{ base, name: `${base}:${infoFor(message.flags, this.keywords)}` }]);
      return outcome!;
    }));
  }

  /** Messages written and fsynced in `tmp/`, moved into `cur/` and given their UIDs, durably. */
  private async commit(files: Array<{ base: string; name: string }>): Promise<AppendOutcome[]> {
    // Each rename is atomic on its own; the directory's fsync below makes them all durable.
    await inParallel(files, WRITE_PARALLELISM, (f) => fs.rename(path.join(this.dir, 'tmp', f.base), path.join(this.dir, 'cur', f.name)));
    await fsyncDir(path.join(this.dir, 'cur'));
    const uids = await this.uidList.append(files.map((f) => f.base), this.entries.size + files.length);
    files.forEach((f, i) => this.entries.set(uids[i]!, { sub: 'cur', name: f.name }));
    this.nextUid = this.uidList.nextUid;
    return uids.map((uid): AppendOutcome => ({ ok: true, uid }));
  }

  /** Renames the file to carry the new flags (a file in `new/` moves to `cur/`). */
  setFlags(uid: number, flags: string[]): Promise<void> {
    this.mustWrite();
    return this.serial.run(() => guarded(`setting flags in ${this.dir}`, async () => {
      const entry = this.entries.get(uid);
      if (!entry) return;
      await this.keywords.add(keywordsIn(flags));
      const name = `${baseOf(entry.name)}:${infoFor(flags, this.keywords)}`;
      if (name === entry.name && entry.sub === 'cur') return;
      await fs.rename(this.pathOf(entry), path.join(this.dir, 'cur', name));
      await fsyncDir(path.join(this.dir, 'cur'));
      if (entry.sub === 'new') await fsyncDir(path.join(this.dir, 'new'));
      this.entries.set(uid, { sub: 'cur', name });
    }));
  }

  /** Deletes messages for good (backup --mirror) and drops them from the UID list. */
  expunge(uids: number[]): Promise<void> {
    this.mustWrite();
    return this.serial.run(() => guarded(`removing messages from ${this.dir}`, async () => {
      const gone = uids.filter((uid) => this.entries.has(uid));
      const bases: string[] = [];
      for (const uid of uids) {
        const base = this.lost.get(uid);
        if (base !== undefined) bases.push(base);
        this.lost.delete(uid);
      }
      if (gone.length === 0 && bases.length === 0) return;
      for (const uid of gone) {
        const entry = this.entries.get(uid)!;
        await fs.rm(this.pathOf(entry), { force: true });
        this.entries.delete(uid);
        bases.push(baseOf(entry.name));
      }
      await fsyncDir(path.join(this.dir, 'cur'));
      await fsyncDir(path.join(this.dir, 'new'));
      await this.uidList.remove(bases, this.entries.size);
    }));
  }

  /** A folder opened for writing is sealed as it is left, so a rerun that finds it so need not look inside. */
  async close(): Promise<void> {
    const seal = this.seal;
    if (seal) await this.serial.run(() => seal((header) => this.isWhole(header)));
  }

  /**
   * Whether every message the list counts is on disk under the name this opening knows it by.
   * Their sizes were checked on opening (or vouched for by the seal found then), or they were
   * written since.
   */
  private async isWhole(header: UidListHeader): Promise<boolean> {
    if (this.lost.size > 0 || header.uidValidity !== this.uidList.uidValidity || header.nextUid !== this.nextUid || header.messages !== this.entries.size) return false;
    try {
      const present = { cur: new Set(await fs.readdir(path.join(this.dir, 'cur'))), new: new Set(await fs.readdir(path.join(this.dir, 'new'))) };
      return [...this.entries.values()].every((entry) => present[entry.sub].has(entry.name));
    } catch {
      return false;
    }
  }

  private pathOf(entry: Entry): string {
    return path.join(this.dir, entry.sub, entry.name);
  }

  private mustWrite(): void {
    if (!this.writable) throw new Error(`${this.dir} was opened read-only`);
  }
}

/** Leftovers of a run killed while writing: ours by name; anything else in `tmp/` is not ours to delete. */
async function removeOwnTemporaries(dir: string): Promise<void> {
  const tmp = path.join(dir, 'tmp');
  for (const name of await fs.readdir(tmp)) {
    if (OWN_NAME.test(name)) await fs.rm(path.join(tmp, name), { force: true });
  }
}

/** A file of a message whose name records its size, but which is shorter or longer on disk. */
async function isCutShort(file: string): Promise<boolean> {
  const recorded = recordedSize(path.basename(file));
  if (recorded === undefined) return false;
  const st = await statOrUndefined(file);
  return st !== undefined && st.size !== recorded;
}

/**
 * A damaged message file leaves `cur/` (no reader may take it for the message) but is kept beside
 * it as `<name>.damaged`, which no Maildir reader looks at: the run copies the message again.
 */
async function setAside(dir: string, entry: Entry): Promise<void> {
  await fs.rename(path.join(dir, entry.sub, entry.name), path.join(dir, `${entry.name}.damaged`));
  await fsyncDir(path.join(dir, entry.sub));
}

async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

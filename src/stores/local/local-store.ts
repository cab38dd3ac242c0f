import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AppendRequest, FolderInfo, FolderStatus, MessageData, MessageMeta, SpecialUse } from '../../domain/types.js';
import { FolderError } from '../../errors/errors.js';
import type { AppendOutcome, CreateFolderOptions, FolderHandle, ScanRange, Store, StoreCaps, StreamedAppend } from '../store.js';
import { isInbox, resolveInside } from './folder-path.js';
import { guarded, localFailure } from './local-errors.js';
import type { ManifestFile, ManifestFolder } from './manifest.js';
import { ensureDirs } from './safe-fs.js';
import { Serial } from './serial.js';

/**
 * One folder on disk as a format opens it: a FolderHandle without the per-handle `status`. The
 * store opens it once and shares it among all the handles the engine opens on that folder (it
 * opens several for parallel UID ranges), so it must run its operations one at a time.
 */
export interface LocalFolder extends Omit<FolderHandle, 'status' | 'expunge'> {
  counters(): FolderStatus;
  expunge(uids: number[]): Promise<void>;
}

/** What a format says about one folder on disk. */
export interface FolderProbe {
  exists: boolean;
  /** Counters, when the format keeps them without reading every message. */
  status?: FolderStatus;
}

/**
 * The folder bookkeeping the Maildir and mbox stores share. Folders are the manifest's entries:
 * a folder's name in the store is its path relative to the backup directory ('Maildir/.Work'),
 * its components are the ones it was created with, and its path is allocated once, here.
 *
 * UIDs: every format keeps, per folder, a UIDVALIDITY and a UID for each message that never change
 * while the folder exists; a folder recreated after it vanished from disk gets a higher UIDVALIDITY,
 * so the engine knows to match by content instead of trusting old UIDs.
 */
export abstract class LocalStore implements Store {
  readonly caps: StoreCaps = { returnsUidOnAppend: true, changedSince: false };
  private foldCase?: Promise<boolean>;
  /** Folders in use, by mode and path, with how many handles use each. */
  private readonly opened = new Map<string, { folder: Promise<LocalFolder>; users: number }>();
  /** Folder creations, one at a time. */
  private readonly creations = new Serial();

  constructor(
    protected readonly manifest: ManifestFile,
    readonly label: string,
  ) {}

  /** Segments of a folder's path under the mail root; `variant` > 0 tells apart colliding paths. */
  protected abstract segmentsFor(components: readonly string[], variant: number): string[];
  protected abstract probe(dir: string): Promise<FolderProbe>;
  /**
   * Makes `dir` (its parent exists) an empty folder with this UIDVALIDITY, replacing damaged
   * bookkeeping. Mail already there is never deleted: Maildir files get new UIDs when the folder
   * is opened; an mbox without its index is set aside.
   */
  protected abstract createOnDisk(dir: string, uidValidity: number, inbox: boolean): Promise<void>;
  protected abstract openOnDisk(dir: string, mode: 'read' | 'write'): Promise<LocalFolder>;

  /** Nothing to connect to: a missing or unreadable directory shows up as a typed error on first use. */
  async connect(): Promise<void> {}

  async listFolders(): Promise<FolderInfo[]> {
    const uses = specialUsesHeldOnce(this.manifest.folders());
    const out: FolderInfo[] = [];
    for (const f of this.manifest.folders()) {
      let probe: FolderProbe;
      try {
        probe = await this.probe(this.pathOf(f));
      } catch (err) {
        // One unreadable folder is left out here; creating it again then fails and is reported for that folder alone.
        const failure = localFailure(err, `reading ${f.path}`);
        if (failure instanceof FolderError) continue;
        throw failure;
      }
      if (probe.exists) out.push(this.info(f, uses, probe.status));
    }
    return out;
  }

  /**
   * Safe to call concurrently, as the store contract says: creations run one at a time, since
   * each allocates a directory name and rewrites the one manifest.
   */
  createFolder(components: string[], options: CreateFolderOptions): Promise<FolderInfo> {
    return this.creations.run(() => this.createOne(components, options));
  }

  private async createOne(components: string[], options: CreateFolderOptions): Promise<FolderInfo> {
    const name = components.join('/');
    return guarded(`creating folder ${name} in ${this.manifest.root}`, async () => {
      if (components.length === 0) throw new FolderError('a folder needs a name', 'invalid-name');
      const known = this.manifest.folders().find((f) => sameFolder(f.components, components));
      const dirs = known ? known.path.split('/') : await this.allocate(components);
      const dir = resolveInside(this.manifest.root, dirs);
      let probe = await this.probe(dir);
      if (known && probe.exists) return this.info(known, specialUsesHeldOnce(this.manifest.folders()), probe.status);

      let uidValidity = probe.status?.uidValidity;
      if (!probe.exists) {
        // Gone from disk, damaged, or new: a fresh UIDVALIDITY above any this path had before,
        // so the engine matches by content rather than trusting UIDs of a former generation.
        uidValidity = Math.max(Math.floor(Date.now() / 1000), (known?.localUidValidity ?? 0) + 1);
        await ensureDirs(this.manifest.root, dirs.slice(0, -1));
        await this.createOnDisk(dir, uidValidity, isInbox(components));
        probe = await this.probe(dir);
      }
      // Present but not in the manifest: ours from a run killed between creating and recording it.
      const folder: ManifestFolder = {
        ...known,
        path: dirs.join('/'),
        components: [...components],
        specialUse: options.specialUse,
        subscribed: options.subscribe,
        localUidValidity: uidValidity ?? Math.floor(Date.now() / 1000),
      };
      await this.manifest.putFolder(folder);
      return this.info(folder, specialUsesHeldOnce(this.manifest.folders()), probe.status);
    });
  }

  /**
   * A handle on the folder. Handles open on a folder at the same time share one opening of it
   * (one reconciliation of its files, one UID counter); the last one closed closes it.
   */
  async openFolder(name: string, mode: 'read' | 'write'): Promise<FolderHandle> {
    const known = this.manifest.folders().find((f) => f.path === name);
    if (!known) throw new FolderError(`no folder ${name} in ${this.manifest.root}`, 'no-such-folder');
    const key = `${mode}:${name}`;
    let entry = this.opened.get(key);
    if (!entry) {
      entry = { folder: guarded(`opening ${name}`, () => this.openOnDisk(this.pathOf(known), mode)), users: 0 };
      this.opened.set(key, entry);
    }
    entry.users++;
    const shared = entry;
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      if (--shared.users > 0) return;
      this.opened.delete(key);
      await (await shared.folder).close();
    };
    try {
      return new SharedHandle(await shared.folder, release);
    } catch (err) {
      // The opening failed for every user: forget it, so the next open tries afresh.
      released = true;
      if (--shared.users === 0) this.opened.delete(key);
      throw err;
    }
  }

  async close(): Promise<void> {}

  private pathOf(f: ManifestFolder): string {
    return resolveInside(this.manifest.root, f.path.split('/'));
  }

  private info(f: ManifestFolder, uses: ReadonlySet<SpecialUse>, status: FolderStatus | undefined): FolderInfo {
    return {
      name: f.path,
      components: [...f.components],
      delimiter: '/',
      specialUse: f.specialUse && uses.has(f.specialUse) ? f.specialUse : undefined,
      subscribed: f.subscribed,
      status,
    };
  }

  /**
   * The first variant of the folder's path that no other folder holds. On a case-insensitive file
   * system (macOS, Windows) `Work` and `work` would share a directory, so paths compare folded.
   */
  private async allocate(components: readonly string[]): Promise<string[]> {
    const mailRoot = this.manifest.mailRoot;
    await ensureDirs(this.manifest.root, [mailRoot]);
    const fold = await this.caseInsensitive();
    const key = (p: string): string => (fold ? p.normalize('NFC').toLowerCase() : p);
    const taken = new Set(this.manifest.folders().map((f) => key(f.path)));
    for (let variant = 0; ; variant++) {
      const dirs = [mailRoot, ...this.segmentsFor(components, variant)];
      if (!taken.has(key(dirs.join('/')))) return dirs;
    }
  }

  /** Probed once: does the mail root answer to its name in another case? */
  private caseInsensitive(): Promise<boolean> {
    this.foldCase ??= (async () => {
      const root = path.join(this.manifest.root, this.manifest.mailRoot);
      const swapped = path.join(this.manifest.root, swapCase(this.manifest.mailRoot));
      try {
        const [a, b] = await Promise.all([fs.stat(root), fs.stat(swapped)]);
        return a.ino === b.ino && a.dev === b.dev;
      } catch {
        return false;
      }
    })();
    return this.foldCase;
  }
}

/** One user's view of a shared folder: its own `status` as of opening, and its own close. */
class SharedHandle implements FolderHandle {
  readonly status: FolderStatus;

  constructor(
    private readonly folder: LocalFolder,
    readonly close: () => Promise<void>,
  ) {
    this.status = folder.counters();
    if (folder.appendStream) this.appendStream = (message) => folder.appendStream!(message);
  }

  readonly appendStream?: (message: StreamedAppend) => Promise<AppendOutcome>;

  get permanentFlags(): ReadonlySet<string> | undefined {
    return this.folder.permanentFlags;
  }

  get lostCopies(): ReadonlySet<number> | undefined {
    return this.folder.lostCopies;
  }

  scan(range: ScanRange): Promise<MessageMeta[]> {
    return this.folder.scan(range);
  }

  fetch(uids: number[]): AsyncIterable<MessageData> {
    return this.folder.fetch(uids);
  }

  append(messages: AppendRequest[]): Promise<AppendOutcome[]> {
    return this.folder.append(messages);
  }

  setFlags(uid: number, flags: string[]): Promise<void> {
    return this.folder.setFlags(uid, flags);
  }

  expunge(uids: number[]): Promise<void> {
    return this.folder.expunge(uids);
  }
}

/** INBOX is the same folder in any case (RFC 3501 §5.1); nothing else is. */
function sameFolder(a: readonly string[], b: readonly string[]): boolean {
  if (isInbox(a) || isInbox(b)) return isInbox(a) && isInbox(b);
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/**
 * Special uses worth reporting: each held by exactly one folder. Two backed-up folders that both
 * were \Sent at the source would otherwise both be mapped onto one of them by use on the next run.
 */
function specialUsesHeldOnce(folders: readonly ManifestFolder[]): Set<SpecialUse> {
  const count = new Map<SpecialUse, number>();
  for (const f of folders) if (f.specialUse) count.set(f.specialUse, (count.get(f.specialUse) ?? 0) + 1);
  return new Set([...count].filter(([, n]) => n === 1).map(([use]) => use));
}

function swapCase(s: string): string {
  return [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

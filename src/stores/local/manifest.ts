import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { SPECIAL_USES } from '../../domain/types.js';
import { LocalStorageError, UsageError } from '../../errors/errors.js';
import { processRunning } from '../../process-running.js';
import { resolveInside } from './folder-path.js';
import { fileFailure } from './local-errors.js';
import { createExclusive, fsyncDir, writeFileAtomic } from './safe-fs.js';

/**
 * `manifest.json`: what makes a backup directory self-describing. It names the source account,
 * the format and, per folder, the server's name, special use and UIDVALIDITY and the path on disk.
 * The path is decided once, when the folder is created, and read back from here ever after: a
 * restore never decodes a directory name (correctness.md §3.4 step 7). It holds no password.
 */

export const MANIFEST_FILE = 'manifest.json';
export const FORMAT_VERSION = 1;

export type BackupFormat = 'maildir' | 'mbox';

/** The subdirectory that holds the mail, so a mail server or reader pointed at it sees only mail. */
export const MAIL_ROOT: Record<BackupFormat, string> = { maildir: 'Maildir', mbox: 'mbox' };

const folderSchema = z.object({
  /** Path on disk relative to the backup directory, '/'-separated; also the folder's name in the store. */
  path: z.string().min(1),
  /** Hierarchy components as stored (the source's, unless `--map` renamed the folder). */
  components: z.array(z.string()).min(1),
  specialUse: z.enum(SPECIAL_USES).optional(),
  subscribed: z.boolean(),
  /** UIDVALIDITY this backup gave the folder on disk; a recreated folder gets a higher one. */
  localUidValidity: z.number().int().positive(),
  /** The server folder last backed up into it: filled in by each run once its folders are known. */
  name: z.string().optional(),
  delimiter: z.string().optional(),
  uidValidity: z.number().int().nonnegative().optional(),
});

const manifestSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  source: z.string(),
  format: z.enum(['maildir', 'mbox']),
  layout: z.enum(['maildir++', 'fs']),
  updated: z.string(),
  folders: z.array(folderSchema),
});

export type ManifestFolder = z.infer<typeof folderSchema>;
export type Manifest = z.infer<typeof manifestSchema>;

/** The manifest of one backup directory, kept in memory and written atomically on every change. */
export class ManifestFile {
  private constructor(
    readonly root: string,
    private data: Manifest,
  ) {}

  /** The manifest in `root`, or undefined when there is none. A damaged or foreign one is refused. */
  static async read(root: string): Promise<ManifestFile | undefined> {
    const file = path.join(root, MANIFEST_FILE);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fileFailure(err, `reading ${file}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LocalStorageError(`${file} is damaged (not valid JSON); put back a copy of it (an archive of the backup holds one), or start a new backup directory`);
    }
    const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
    if (typeof version === 'number' && version > FORMAT_VERSION) {
      throw new UsageError(`${file} has format version ${version}; this mailferry understands up to ${FORMAT_VERSION}`);
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) throw new LocalStorageError(`${file} is damaged or not a mailferry manifest (${parsed.error.issues[0]?.message ?? 'invalid'}); put back a copy of it, or start a new backup directory`);
    checkPaths(root, parsed.data);
    return new ManifestFile(root, parsed.data);
  }

  /** A new manifest for a new backup directory; nothing is written until `save` (a dry run never does). */
  static fresh(root: string, init: Pick<Manifest, 'source' | 'format' | 'layout'>): ManifestFile {
    return new ManifestFile(root, { formatVersion: FORMAT_VERSION, ...init, updated: new Date().toISOString(), folders: [] });
  }

  get manifest(): Readonly<Manifest> {
    return this.data;
  }

  get mailRoot(): string {
    return MAIL_ROOT[this.data.format];
  }

  folders(): readonly ManifestFolder[] {
    return this.data.folders;
  }

  /** Adds a folder, or replaces the one with the same path, and saves. */
  async putFolder(folder: ManifestFolder): Promise<void> {
    checkFolderPath(this.root, this.mailRoot, folder.path);
    this.data.folders = [...this.data.folders.filter((f) => f.path !== folder.path), folder];
    await this.save();
  }

  /** Records which server folder fed each stored folder, keyed by path, and saves. */
  async describeSources(sources: ReadonlyMap<string, { name: string; delimiter: string; uidValidity?: number }>): Promise<void> {
    this.data.folders = this.data.folders.map((f) => {
      const s = sources.get(f.path);
      return s ? { ...f, name: s.name, delimiter: s.delimiter, uidValidity: s.uidValidity } : f;
    });
    await this.save();
  }

  /**
   * Writes the manifest of a new backup directory, failing if one appeared meanwhile: another run
   * started a backup there at the same moment, and its manifest must not be replaced.
   */
  async create(): Promise<void> {
    const file = path.join(this.root, MANIFEST_FILE);
    const temp = `${MANIFEST_TEMP_PREFIX}${process.pid}`;
    try {
      await fs.rm(path.join(this.root, temp), { force: true });
      const handle = await createExclusive(path.join(this.root, temp));
      try {
        await handle.writeFile(JSON.stringify(this.data, null, 2) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      // link(2), unlike rename(2), never replaces an existing name.
      await fs.link(path.join(this.root, temp), file);
      await fs.rm(path.join(this.root, temp));
      await fsyncDir(this.root);
    } catch (err) {
      await fs.rm(path.join(this.root, temp), { force: true }).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${this.root}: another run started a backup there at the same time`);
      throw fileFailure(err, `writing ${file}`);
    }
  }

  async save(): Promise<void> {
    this.data.updated = new Date().toISOString();
    this.data.folders.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const file = path.join(this.root, MANIFEST_FILE);
    try {
      await writeFileAtomic(file, JSON.stringify(this.data, null, 2) + '\n');
    } catch (err) {
      throw fileFailure(err, `writing ${file}`);
    }
  }

  /**
   * Removes temporaries of manifest writes by runs that are gone (killed while writing it): a run
   * that failed cleans its own, but kill -9 cannot.
   */
  static async removeAbandonedTemporaries(root: string): Promise<void> {
    for (const name of await fs.readdir(root).catch(() => [])) {
      const pid = isManifestTemporary(name) ? Number(name.slice(MANIFEST_TEMP_PREFIX.length)) : 0;
      if (pid > 0 && pid !== process.pid && !processRunning(pid)) await fs.rm(path.join(root, name), { force: true });
    }
  }
}

const MANIFEST_TEMP_PREFIX = `${MANIFEST_FILE}.tmp-`;

/** A temporary of an atomic manifest write (safe-fs.ts `writeFileAtomic`). */
export function isManifestTemporary(name: string): boolean {
  return name.startsWith(MANIFEST_TEMP_PREFIX);
}

/** A tampered manifest must not steer reads or writes outside the mail root (§3.4 step 7). */
function checkPaths(root: string, m: Manifest): void {
  const seen = new Set<string>();
  for (const f of m.folders) {
    checkFolderPath(root, MAIL_ROOT[m.format], f.path);
    if (seen.has(f.path)) throw new UsageError(`${path.join(root, MANIFEST_FILE)} lists ${f.path} twice`);
    seen.add(f.path);
  }
}

function checkFolderPath(root: string, mailRoot: string, folderPath: string): void {
  const segments = folderPath.split('/');
  if (segments[0] !== mailRoot) throw new UsageError(`manifest folder path ${JSON.stringify(folderPath)} is not under ${mailRoot}/`);
  try {
    resolveInside(root, segments);
  } catch (err) {
    throw new UsageError(`manifest folder path ${JSON.stringify(folderPath)} is unsafe: ${(err as Error).message}`);
  }
}

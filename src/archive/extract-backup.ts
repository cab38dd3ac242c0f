import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FolderError, MailferryError, UsageError } from '../errors/errors.js';
import { resolveInside } from '../stores/local/folder-path.js';
import { MANIFEST_FILE, ManifestFile, type ManifestFolder } from '../stores/local/manifest.js';
import { createExclusive, ensureDirs } from '../stores/local/safe-fs.js';
import type { ArchiveKind } from './archive-pattern.js';
import type { EntryVisitor } from './archive-entry.js';
import { isPartOfFolder } from './backup-folder-files.js';
import { privateTempDir } from '../stores/local/private-temp.js';
import { walkTarGz } from './walk-tar-gz.js';
import { walkZip } from './walk-zip.js';

export interface ExtractedBackup {
  /** A backup directory holding the manifest and the chosen folders. */
  manifest: ManifestFile;
  /** Deletes the extracted directory. */
  remove(): Promise<void>;
}

/** A manifest is a few hundred bytes per folder; anything near this is not one. */
const MAX_MANIFEST_BYTES = 64 << 20;

/**
 * Reads back an archive of a backup directory (backup --archive, or tar/zip of one): the
 * manifest first, then only the files of the folders `choose` picks, streamed into a private
 * temporary directory (private-temp.ts) that `remove` deletes. Memory holds one entry's chunk at
 * a time; disk holds the chosen folders.
 *
 * Two passes over the archive: which files to extract is known only once the manifest is read,
 * and in a .tar.gz of a Maildir backup it comes after the mail (entries are in name order,
 * `manifest.json` after `Maildir/`). The first pass also checks every entry, so a hostile
 * archive is refused before anything of it is written. A .zip's second pass reads only the chosen
 * entries, through its central directory.
 *
 * The backup's directory is the one holding `manifest.json`: the archive's top level, or one
 * directory below it (backup --archive puts everything under the backup directory's name).
 * Entries outside it are left alone; entries that are not files or directories, or whose names
 * could reach outside the extraction directory, make the archive refused (exit 2).
 */
export async function extractBackup(
  file: string,
  kind: ArchiveKind,
  choose: (folders: readonly ManifestFolder[]) => readonly ManifestFolder[],
): Promise<ExtractedBackup> {
  const walk = kind === 'zip' ? walkZip : walkTarGz;
  const { prefix, manifest: manifestBytes } = await findManifest(file, walk);
  const root = await privateTempDir('archive');
  const remove = () => fs.rm(root, { recursive: true, force: true });
  try {
    const manifest = await readManifest(file, root, prefix, manifestBytes);
    const format = manifest.manifest.format;
    const chosen = choose(manifest.folders());
    await walk(file, async (entry) => {
      if (!entry.name.startsWith(prefix)) return undefined;
      const rel = entry.name.slice(prefix.length);
      if (!chosen.some((f) => isPartOfFolder(rel, f, format))) return undefined;
      const segments = rel.split('/');
      const target = resolveInside(root, segments);
      if (entry.type === 'directory') {
        await ensureDirs(root, segments);
        return undefined;
      }
      return async (data) => {
        await ensureDirs(root, segments.slice(0, -1));
        await writeNew(target, data, entry.mtime);
      };
    });
    return { manifest, remove };
  } catch (err) {
    await remove();
    throw extractionFailure(err, file);
  }
}

/** The manifest written into the extraction directory and read back, its errors naming the archive. */
async function readManifest(file: string, root: string, prefix: string, bytes: Buffer): Promise<ManifestFile> {
  const written = path.join(root, MANIFEST_FILE);
  await writeNew(written, [bytes], new Date());
  try {
    const manifest = await ManifestFile.read(root);
    if (manifest) return manifest;
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message.split(written).join(prefix + MANIFEST_FILE)}`, { cause: err });
  }
  throw new UsageError(`${file}: ${prefix}${MANIFEST_FILE} could not be extracted`);
}

function extractionFailure(err: unknown, file: string): unknown {
  if (err instanceof MailferryError) return err;
  if (err instanceof FolderError) return new UsageError(`${file}: ${err.message}`);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new UsageError(`no space left in ${tmpdir()} to extract ${file}; set TMPDIR to a directory on a larger disk`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new UsageError(`extracting ${file} into ${tmpdir()}: ${(err as Error).message}`, { cause: err });
  // Files are created exclusively: a second entry of the same name finds the first.
  if (code === 'EEXIST') return new UsageError(`${file} holds ${path.basename((err as NodeJS.ErrnoException).path ?? 'an entry')} twice; this is not an archive mailferry wrote`, { cause: err });
  return err;
}

/** Pass one: where the backup's manifest is, and its bytes; nothing is written. */
async function findManifest(file: string, walk: (file: string, visit: EntryVisitor) => Promise<void>): Promise<{ prefix: string; manifest: Buffer }> {
  const found: Array<{ prefix: string; bytes: Buffer }> = [];
  const odd: string[] = [];
  await walk(file, async (entry) => {
    if (entry.type === 'other') odd.push(entry.name);
    const m = /^(?:([^/]+)\/)?manifest\.json$/.exec(entry.name);
    if (!m || entry.type !== 'file') return undefined;
    return async (data) => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of data) {
        size += chunk.length;
        if (size > MAX_MANIFEST_BYTES) throw new UsageError(`${file}: ${entry.name} is too large to be a mailferry manifest`);
        chunks.push(chunk);
      }
      found.push({ prefix: m[1] === undefined ? '' : `${m[1]}/`, bytes: Buffer.concat(chunks) });
    };
  });
  if (found.length === 0) throw new UsageError(`${file} is not an archive of a mailferry backup: no ${MANIFEST_FILE} at its top or one directory below`);
  if (found.length > 1) throw new UsageError(`${file} holds ${found.length} backups (${found.map((f) => f.prefix + MANIFEST_FILE).join(', ')}); extract it and give one of them`);
  const { prefix, bytes } = found[0]!;
  const foreign = odd.find((name) => name.startsWith(prefix));
  if (foreign !== undefined) throw new UsageError(`${file}: ${foreign} is a link or device; a mailferry backup holds only files and directories`);
  return { prefix, manifest: bytes };
}

/** A file that must not exist yet (O_EXCL, no symlink followed), 0600, with the entry's time. */
async function writeNew(target: string, data: AsyncIterable<Buffer> | Buffer[], mtime: Date): Promise<void> {
  const handle = await createExclusive(target);
  try {
    for await (const chunk of data) await handle.write(chunk);
    // Maildir keeps INTERNALDATE in the file's modification time.
    await handle.utimes(mtime, mtime);
  } finally {
    await handle.close();
  }
}

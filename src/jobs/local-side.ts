import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { extractBackup } from '../archive/extract-backup.js';
import type { ArchiveKind } from '../archive/archive-pattern.js';
import type { SpecialUseNames } from '../config/profile-schema.js';
import type { FolderInfo } from '../domain/types.js';
import { planFolders, type FolderSelection } from '../engine/folder-map.js';
import { UsageError } from '../errors/errors.js';
import type { StderrLogger } from '../reporting/logger.js';
import { ForeignTree, type TreeFolder } from '../stores/foreign/foreign-tree.js';
import { findMaildirs } from '../stores/foreign/maildir-tree.js';
import { findMboxFiles } from '../stores/foreign/mbox-tree.js';
import { LocalSource, type ReadableTree } from '../stores/local-source.js';
import { MANIFEST_FILE, ManifestFile, type ManifestFolder } from '../stores/local/manifest.js';
import { MaildirStore } from '../stores/maildir/maildir-store.js';
import { MboxStore } from '../stores/mbox/mbox-store.js';

export interface LocalSideOptions {
  /** `--from` or `--to`, for messages. */
  option: string;
  /** Names that give folders of foreign trees a special use (the side's provider profile). */
  specialUseNames: SpecialUseNames;
  /** The folders the command will use: an archive then extracts only those. Default: all. */
  selection?: FolderSelection;
  logger: StderrLogger;
}

/**
 * A side given as a path, read-only, by what is there:
 *
 * - a directory with `manifest.json`: a mailferry backup, read through its own store (so an mbox
 *   backup gives back the exact bytes the server sent);
 * - a `.tar.gz`/`.tgz` or `.zip`: an archive of such a directory, extracted on connect;
 * - another directory: mail other programs wrote, as Maildir folders if it holds any (a directory
 *   with `cur/` or `new/`), else as the mbox files in it;
 * - another file: an mbox file, if it starts with `From `.
 */
export async function openLocalSide(text: string, opts: LocalSideOptions): Promise<LocalSource> {
  const at = path.resolve(text);
  const st = await fs.stat(at).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${opts.option} ${text}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  });
  const archive = archiveKind(at);
  if (st.isFile() && archive) {
    return new LocalSource(`${archive}:${at}`, async () => {
      const extracted = await extractBackup(at, archive, (folders) => chosen(folders, opts.selection));
      return { tree: backupStore(extracted.manifest, `${archive}:${at}`), dispose: extracted.remove };
    });
  }
  if (st.isDirectory()) {
    const manifest = await ManifestFile.read(at);
    if (manifest) {
      const label = `${manifest.manifest.format}:${at}`;
      return new LocalSource(label, async () => ({ tree: backupStore(manifest, label) }));
    }
  }
  const found = await foreignFolders(at, st.isDirectory(), opts.option, text);
  if (found.ignored > 0) opts.logger.warn(`${opts.option} ${text}: ${found.ignored} ${found.ignoredWhat}; left out`);
  const tree = new ForeignTree(found.folders, opts.specialUseNames);
  return new LocalSource(`${found.kind}:${at}`, async () => ({ tree }));
}

function archiveKind(file: string): ArchiveKind | undefined {
  return /\.(tar\.gz|tgz)$/i.test(file) ? 'tar.gz' : /\.zip$/i.test(file) ? 'zip' : undefined;
}

function backupStore(manifest: ManifestFile, label: string): ReadableTree {
  const m = manifest.manifest;
  return m.format === 'maildir' ? new MaildirStore(manifest, label, m.layout) : new MboxStore(manifest, label);
}

/** The manifest's folders that `selection` picks, by the same rule the run maps them with. */
function chosen(folders: readonly ManifestFolder[], selection: FolderSelection | undefined): ManifestFolder[] {
  if (!selection) return [...folders];
  const infos: FolderInfo[] = folders.map((f) => ({ name: f.path, components: f.components, delimiter: '/', subscribed: f.subscribed }));
  const picked = new Set(planFolders(infos, [], '/', selection).map((p) => p.source.name));
  return folders.filter((f) => picked.has(f.path));
}

async function foreignFolders(at: string, directory: boolean, option: string, text: string): Promise<{ kind: 'maildir' | 'mbox'; folders: TreeFolder[]; ignored: number; ignoredWhat: string }> {
  try {
    if (directory) {
      const maildirs = await findMaildirs(at);
      if (maildirs.folders.length > 0) return { kind: 'maildir', ...maildirs, ignoredWhat: 'files outside cur/ and new/ are not Maildir messages' };
    }
    const mbox = await findMboxFiles(at);
    if (mbox.folders.length > 0) return { kind: 'mbox', ...mbox, ignoredWhat: 'files are not mbox files (they do not start with "From ")' };
  } catch (err) {
    throw new UsageError(`${option} ${text}: ${(err as Error).message}`, { cause: err });
  }
  throw new UsageError(
    directory
      ? `${option} ${text}: no mail found: not a mailferry backup (no ${MANIFEST_FILE}), and no Maildir folder (a directory with cur/ or new/) or mbox file in it`
      : `${option} ${text}: not an mbox file (it does not start with "From "), nor a .tar.gz, .tgz or .zip archive`,
  );
}

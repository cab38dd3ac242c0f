import { ZipArchive } from 'archiver';
import { createReadStream, createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { UsageError } from '../errors/errors.js';
import { FILE_MODE } from '../stores/local/safe-fs.js';
import type { ArchiveKind } from './archive-pattern.js';
import type { TreeEntry } from './backup-tree.js';

/**
 * Streams `entries` into a new archive file (0600, fsynced), one file open at a time, so memory
 * stays bounded whatever the backup's size.
 *
 * .zip goes through archiver. .tar.gz is written with tar-stream (the tar engine archiver itself
 * uses) because archiver turns every `\` in an entry name into `/`: Dovecot's Maildir++ escaping
 * names a folder `Foo.Bar` `.Foo\2eBar`, and that entry would come back as a different path.
 */
export async function writeArchive(entries: readonly TreeEntry[], kind: ArchiveKind, file: string): Promise<void> {
  // 'wx': a new file, never through an existing name or symlink; the stream closes it when done.
  if (kind === 'zip') refuseUnzippable(entries);
  const out = createWriteStream(file, { flags: 'wx', mode: FILE_MODE });
  try {
    if (kind === 'zip') await writeZip(entries, out);
    else await writeTarGz(entries, out);
  } catch (err) {
    // Wait for the file to be closed (or never opened), so the caller's clean-up really removes it.
    if (!out.closed) await new Promise<void>((resolve) => out.destroy().once('close', () => resolve()));
    throw err;
  }
  // Created 0600 minus the umask, which can only take bits away; now exactly 0600.
  await fs.chmod(file, FILE_MODE);
  // fsync through a new descriptor: it flushes the file, whichever descriptor wrote it.
  const handle = await fs.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeTarGz(entries: readonly TreeEntry[], out: NodeJS.WritableStream): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, createGzip({ level: 6 }), out);
  // A failure downstream must end the loop below, not leave it waiting on a dead stream.
  written.catch(() => pack.destroy());
  for (const e of entries) {
    const header = { name: e.type === 'directory' ? `${e.name}/` : e.name, type: e.type, mode: e.mode, mtime: e.mtime, size: e.size };
    await new Promise<void>((resolve, reject) => {
      if (e.type === 'directory') {
        pack.entry(header, (err) => (err ? reject(err) : resolve()));
        return;
      }
      const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      pipeline(createReadStream(e.path), sink).catch(reject);
    });
  }
  pack.finalize();
  await written;
}

/** The ZIP format (APPNOTE 4.4.17) has no way to store a '\' in a name; refuse rather than mangle. */
function refuseUnzippable(entries: readonly TreeEntry[]): void {
  const unzippable = entries.find((e) => e.name.includes('\\'));
  if (unzippable) throw new UsageError(`--archive .zip cannot store ${unzippable.name}: ZIP names may not contain '\\' (Dovecot's Maildir++ escape); use .tar.gz`);
}

async function writeZip(entries: readonly TreeEntry[], out: NodeJS.WritableStream): Promise<void> {
  const archive = new ZipArchive({ zlib: { level: 6 } });
  const failed = new Promise<never>((_, reject) => {
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  const written = pipeline(archive, out);
  for (const e of entries) archive.file(e.path, { name: e.type === 'directory' ? `${e.name}/` : e.name, mode: e.mode, date: e.mtime });
  await Promise.race([Promise.all([archive.finalize(), written]), failed]);
}

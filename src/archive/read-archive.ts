import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import type { ArchiveKind } from './archive-pattern.js';

/** What an archive holds under one name (without a trailing '/'). */
export interface ArchivedEntry {
  type: 'file' | 'directory';
  size: number;
  /** SHA-256 of a file's bytes as they decompress. */
  sha256?: string;
}

/** Reads a whole archive back, decompressing every file, one at a time. */
export async function readArchive(file: string, kind: ArchiveKind): Promise<Map<string, ArchivedEntry>> {
  return kind === 'zip' ? readZip(file) : readTarGz(file);
}

async function readTarGz(file: string): Promise<Map<string, ArchivedEntry>> {
  const entries = new Map<string, ArchivedEntry>();
  const extract = tar.extract();
  const fed = pipeline(createReadStream(file), createGunzip(), extract);
  let failure: unknown;
  fed.catch((err: unknown) => (failure ??= err));
  for await (const entry of extract) {
    const name = entry.header.name.replace(/\/$/, '');
    if (entry.header.type === 'directory') {
      entry.resume();
      entries.set(name, { type: 'directory', size: 0 });
    } else {
      entries.set(name, { type: 'file', ...(await digest(entry)) });
    }
  }
  await fed.catch(() => undefined);
  if (failure) throw failure;
  return entries;
}

async function readZip(file: string): Promise<Map<string, ArchivedEntry>> {
  const entries = new Map<string, ArchivedEntry>();
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: true, validateEntrySizes: true });
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName.replace(/\/$/, '');
      if (entry.fileName.endsWith('/')) entries.set(name, { type: 'directory', size: 0 });
      else entries.set(name, { type: 'file', ...(await digest(await zip.openReadStreamPromise(entry))) });
    }
  } finally {
    zip.close();
  }
  return entries;
}

async function digest(stream: AsyncIterable<unknown>): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { UsageError } from '../../errors/errors.js';
import { DIR_MODE, writeFileAtomic } from '../../stores/local/safe-fs.js';
import type { Store } from '../../stores/store.js';
import { rawMessage, withFolder } from './browse-source.js';
import { partOf } from './showing.js';

export interface ExportRequest {
  store: Store;
  folder: string;
  uids: number[];
  dir: string;
  /** Write this part of each message, decoded, under its own (sanitised) file name. */
  part?: string;
}

/**
 * Writes each message as `<folder>-<uid>.eml` with its exact bytes, or with `part` one part of
 * it; files are 0600, replaced whole if they exist, and never outside `dir`. Returns the paths.
 */
export async function exportMessages(req: ExportRequest): Promise<string[]> {
  const dir = path.resolve(req.dir);
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
  return withFolder(req.store, req.folder, async (handle, info) => {
    const written: string[] = [];
    for (const uid of req.uids) {
      const base = safeFileName(info.components.join('_') || info.name, 'folder');
      let name = `${base}-${uid}.eml`;
      let bytes: Buffer;
      if (req.part === undefined) bytes = await rawMessage(handle, info.components.join('/'), uid);
      else {
        const part = await partOf(handle, info.components.join('/'), uid, req.part, false);
        bytes = part.bytes;
        name = safeFileName(part.leaf.name ?? '', `${base}-${uid}-part${req.part}.bin`);
      }
      const file = path.join(dir, name);
      // safeFileName leaves no separator; this is the guard that no name can get past it.
      if (path.dirname(file) !== dir) throw new UsageError(`refusing to write ${JSON.stringify(name)} outside ${dir}`);
      await writeFileAtomic(file, bytes);
      written.push(file);
    }
    return written;
  });
}

/**
 * A name from a message (an attachment's, a folder's) as one plain file name: directories,
 * control characters and leading dots removed, `..` gone, at most 200 characters.
 */
export function safeFileName(name: string, fallback: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  const cleaned = last
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/\.\.+/g, '.')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 200);
  return cleaned === '' ? fallback : cleaned;
}

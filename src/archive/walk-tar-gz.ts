import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { entryName, walkFailure, type EntryVisitor } from './archive-entry.js';

/**
 * One pass through a .tar.gz, start to end (gzip cannot seek). Entries nobody wants are drained
 * unread; the file is streamed, so memory does not grow with the archive.
 */
export async function walkTarGz(file: string, visit: EntryVisitor): Promise<void> {
  const extract = tar.extract();
  const fed = pipeline(createReadStream(file), createGunzip(), extract);
  // Observed below; a failure also ends the loop, through the extractor.
  fed.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const type = h.type === 'file' || h.type === 'contiguous-file' ? 'file' : h.type === 'directory' ? 'directory' : 'other';
      const sink = await visit({ name: entryName(h.name, file), type, mtime: h.mtime ?? new Date(0) });
      // A tar entry is a readable stream of Buffers.
      if (sink && type === 'file') await sink(entry as AsyncIterable<Buffer>);
      else entry.resume();
    }
    await fed;
  } catch (err) {
    // Stopping early (a refused entry) also makes the pipeline fail: wait for it, report ours.
    await fed.catch(() => undefined);
    throw walkFailure(err, file, '.tar.gz');
  }
}

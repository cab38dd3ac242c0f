import yauzl from 'yauzl';
import { entryName, walkFailure, type EntryVisitor } from './archive-entry.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * The entries of a .zip in central-directory order. The central directory is an index, so only
 * the entries a visitor wants are decompressed; the rest are never read. Modification times are
 * read as archiver writes them: DOS time in UTC (2-second steps), or exact where the entry has
 * an extended timestamp (Info-ZIP's `UT` field).
 */
export async function walkZip(file: string, visit: EntryVisitor): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
  } catch (err) {
    throw walkFailure(err, file, '.zip');
  }
  try {
    for await (const entry of zip.eachEntry()) {
      const directory = entry.fileName.endsWith('/');
      const link = ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK;
      const type = directory ? 'directory' : link ? 'other' : 'file';
      const sink = await visit({ name: entryName(entry.fileName, file), type, mtime: entry.getLastModDate({ timezone: 'UTC' }) });
      if (sink && type === 'file') await sink(await zip.openReadStreamPromise(entry));
    }
  } catch (err) {
    throw walkFailure(err, file, '.zip');
  } finally {
    zip.close();
  }
}

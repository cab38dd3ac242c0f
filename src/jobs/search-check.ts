import type { Checkpoint } from '../engine/checkpoint.js';
import { isUnchanged, searchSource, type FolderPair, type SyncOptions } from '../engine/folder-sync.js';
import { FolderError } from '../errors/errors.js';
import type { Store } from '../stores/store.js';

/**
 * Runs the search criteria in the first folder the run will look into, so criteria the server
 * refuses (or a source that cannot search) stop the run before anything is created or copied.
 * A rerun that looks into no folder (none changed) searches nowhere and checks nothing.
 */
export async function checkSearch(source: Store, dest: Store, pairs: FolderPair[], options: SyncOptions, checkpoint: Checkpoint | undefined): Promise<void> {
  if (options.filter.search === undefined) return;
  const first = pairs.find((p) => !checkpoint || !isUnchanged({ checkpoint, options, dest }, p, checkpoint.folder(p.source.name)));
  if (!first) return;
  let handle;
  try {
    handle = await source.openFolder(first.source.name, 'read');
  } catch (err) {
    // The run reports a folder it cannot open; the criteria are checked in the next one it opens.
    if (err instanceof FolderError) return;
    throw err;
  }
  try {
    await searchSource(handle, options.filter);
  } finally {
    await handle.close();
  }
}

import { planFolders, type FolderSelection } from '../engine/folder-map.js';
import { FolderError } from '../errors/errors.js';
import type { CreateFolderOptions, Store } from '../stores/store.js';
import { destDelimiter } from './copy-job.js';

export interface FolderTreeResult {
  source: string;
  destination: string;
  dryRun: boolean;
  /** Destination folders created (with --dry-run: that would be). */
  created: string[];
  /** Destination folders the plan uses that were there already. */
  existing: string[];
  /** Folders the destination refused to create, with its reason. */
  refused: Array<{ folder: string; error: string }>;
}

/**
 * `migrate --just-folders` (imapsync's --justfolders): the folder tree the migration would use,
 * created at the destination (subscribed where the source subscribes), without a message. No
 * checkpoint is written: the folders are all there is to it, and a later migrate finds them.
 */
export async function createFolderTree(source: Store, dest: Store, selection: FolderSelection, dryRun: boolean): Promise<FolderTreeResult> {
  try {
    await Promise.all([source.connect(), dest.connect()]);
    const [sourceFolders, destFolders] = await Promise.all([source.listFolders(dest.caps), dest.listFolders()]);
    const delimiter = destDelimiter(destFolders);
    const plan = planFolders(sourceFolders, destFolders, delimiter, selection);
    const result: FolderTreeResult = { source: source.label, destination: dest.label, dryRun, created: [], existing: [], refused: [] };
    const create = async (components: string[], options: CreateFolderOptions): Promise<void> => {
      const name = components.join(delimiter);
      if (dryRun) return void result.created.push(name);
      try {
        result.created.push((await dest.createFolder(components, options)).name);
      } catch (err) {
        if (!(err instanceof FolderError)) throw err;
        result.refused.push({ folder: name, error: err.message });
      }
    };
    const seen = new Set(destFolders.map((f) => f.components.join('\u0000')));
    const planned = new Set(plan.map((p) => p.destComponents.join('\u0000')));
    // Parents before their children, and a parent no folder maps to (Old of Old/Projects) made
    // explicitly, so that the list says all that was created rather than what the server invented.
    for (const p of [...plan].sort((a, b) => a.destComponents.length - b.destComponents.length)) {
      if (p.dest) {
        if (!result.existing.includes(p.dest.name)) result.existing.push(p.dest.name);
        continue;
      }
      for (let depth = 1; depth <= p.destComponents.length; depth++) {
        const level = p.destComponents.slice(0, depth);
        const key = level.join('\u0000');
        if (seen.has(key) || (depth < p.destComponents.length && planned.has(key))) continue;
        seen.add(key);
        await create(level, depth === p.destComponents.length ? { specialUse: p.specialUse, subscribe: p.subscribe } : { subscribe: false });
      }
    }
    return result;
  } finally {
    await Promise.all([source.close(), dest.close()]);
  }
}

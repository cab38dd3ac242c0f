import PQueue from 'p-queue';
import type { FolderInfo, SpecialUse } from '../domain/types.js';
import { planFolders, type FolderSelection } from '../engine/folder-map.js';
import { InterruptedError } from '../errors/errors.js';
import type { Store } from '../stores/store.js';
import { destDelimiter } from './copy-job.js';

export interface FolderLine {
  name: string;
  specialUse?: SpecialUse;
  subscribed: boolean;
  messages: number;
  bytes: number;
}

export interface FolderListing {
  source: string;
  folders: Array<FolderLine & { destination?: { name: string; exists: boolean; messages: number; bytes: number } }>;
  destination?: string;
}

export interface FoldersRequest {
  source: Store;
  /** With a destination: the folder each source folder would be copied to, and what it holds. */
  dest?: Store;
  selection: FolderSelection;
  connections: number;
  /** Stops before the next folder is measured (InterruptedError). */
  signal?: AbortSignal;
}

/**
 * Lists a side's folders with counts and sizes; with a destination, also the folder each one
 * would be copied to (migrate's mapping) and what that folder holds now. Read-only.
 */
export async function listFolders({ source, dest, selection, connections, signal }: FoldersRequest): Promise<FolderListing> {
  const stores = dest ? [source, dest] : [source];
  try {
    await Promise.all(stores.map((s) => s.connect()));
    const queue = new PQueue({ concurrency: Math.max(1, connections) });
    const measure = (store: Store, f: FolderInfo): Promise<FolderLine> => {
      if (signal?.aborted) throw new InterruptedError();
      return measureFolder(store, f);
    };
    const srcFolders = await source.listFolders(dest?.caps);
    if (!dest) {
      const lines = await Promise.all(srcFolders.map((f) => queue.add(() => measure(source, f))));
      return { source: source.label, folders: lines.sort((a, b) => a.name.localeCompare(b.name)) };
    }
    const dstFolders = await dest.listFolders();
    const plan = planFolders(srcFolders, dstFolders, destDelimiter(dstFolders), selection);
    const folders = await Promise.all(
      plan.map((p) =>
        queue.add(async () => {
          const line = await measure(source, p.source);
          const target = p.dest ? await measure(dest, p.dest) : undefined;
          const name = p.dest?.name ?? p.destComponents.join(destDelimiter(dstFolders));
          return { ...line, destination: { name, exists: !!target, messages: target?.messages ?? 0, bytes: target?.bytes ?? 0 } };
        }),
      ),
    );
    return { source: source.label, destination: dest.label, folders: folders.sort((a, b) => a.name.localeCompare(b.name)) };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

async function measureFolder(store: Store, f: FolderInfo): Promise<FolderLine> {
  const handle = await store.openFolder(f.name, 'read');
  try {
    const metas = await handle.scan({});
    return { name: f.name, specialUse: f.specialUse, subscribed: f.subscribed, messages: metas.length, bytes: metas.reduce((a, m) => a + m.size, 0) };
  } finally {
    await handle.close();
  }
}

import PQueue from 'p-queue';
import type { FolderInfo } from '../domain/types.js';
import { planFolders, type FolderSelection } from '../engine/folder-map.js';
import { compareFolder, isEqual, readFolder, type FolderComparison } from '../engine/verify.js';
import { withoutDropped } from '../engine/flags.js';
import { FolderError, InterruptedError } from '../errors/errors.js';
import type { Store } from '../stores/store.js';
import { destDelimiter } from './copy-job.js';

export interface VerifyRequest {
  source: Store;
  dest: Store;
  selection: FolderSelection;
  quick: boolean;
  connections: number;
  /** Stops before the next folder is compared (InterruptedError). */
  signal?: AbortSignal;
}

export interface VerifyResult {
  source: string;
  destination: string;
  quick: boolean;
  folders: FolderComparison[];
  equal: boolean;
  seconds: number;
}

/**
 * Compares two sides folder by folder, with the folder mapping migrate uses. Read-only: folders
 * are opened for reading (IMAP: EXAMINE) and bodies fetched with BODY.PEEK.
 */
export async function verify(req: VerifyRequest): Promise<VerifyResult> {
  const started = Date.now();
  try {
    await Promise.all([req.source.connect(), req.dest.connect()]);
    const [srcFolders, dstFolders] = await Promise.all([req.source.listFolders(req.dest.caps), req.dest.listFolders()]);
    const plan = planFolders(srcFolders, dstFolders, destDelimiter(dstFolders), req.selection);
    const queue = new PQueue({ concurrency: Math.max(1, req.connections) });
    const folders = await Promise.all(
      plan.map((p) =>
        queue.add(() => {
          if (req.signal?.aborted) throw new InterruptedError();
          return compareOne(req, p.source, p.dest, p.destComponents.join('/'));
        }),
      ),
    );
    folders.sort((a, b) => a.source.localeCompare(b.source));
    return { source: req.source.label, destination: req.dest.label, quick: req.quick, folders, equal: folders.every(isEqual), seconds: (Date.now() - started) / 1000 };
  } finally {
    await Promise.all([req.source.close(), req.dest.close()]);
  }
}

async function compareOne(req: VerifyRequest, source: FolderInfo, dest: FolderInfo | undefined, wanted: string): Promise<FolderComparison> {
  try {
    // A flag the destination never keeps (its profile drops it) is no difference.
    const dropped = req.dest.caps.droppedFlags ?? [];
    const src = (await readSide(req.source, source.name, req.quick)).map((m) => (dropped.length > 0 ? { ...m, flags: withoutDropped(m.flags, dropped) } : m));
    const dst = dest ? await readSide(req.dest, dest.name, req.quick) : [];
    return compareFolder(source.name, dest?.name ?? `${wanted} (absent)`, src, dst, req.quick);
  } catch (err) {
    if (!(err instanceof FolderError)) throw err;
    return { ...compareFolder(source.name, dest?.name ?? wanted, [], [], req.quick), error: err.message };
  }
}

async function readSide(store: Store, name: string, quick: boolean) {
  const handle = await store.openFolder(name, 'read');
  try {
    return await readFolder(handle, quick);
  } finally {
    await handle.close();
  }
}

import { ProfileCatalog } from '../../config/profile-catalog.js';
import type { FolderInfo } from '../../domain/types.js';
import { UsageError } from '../../errors/errors.js';
import type { StderrLogger } from '../../reporting/logger.js';
import type { FolderHandle, Store } from '../../stores/store.js';
import { plainImapStore, type ConnectionPolicy, type ImapSideSpec } from '../imap-side.js';

const URL_SCHEME = /^imaps?:\/\//i;

/**
 * What the browsing commands read: an IMAP account (the account itself, so partial FETCH reaches
 * the server), or a path opened read-only as restore opens its source (a backup directory or
 * archive, a Maildir tree, an mbox). With `folder`, an archive extracts only that folder.
 */
export async function openBrowseSource(spec: ImapSideSpec, policy: ConnectionPolicy, logger: StderrLogger, folder?: string): Promise<Store> {
  if (URL_SCHEME.test(spec.url)) return plainImapStore('source', spec, policy, logger);
  const profile = spec.profile ?? ProfileCatalog.load().detect('');
  const { openLocalSide } = await import('../local-side.js');
  const selection = folder === undefined ? undefined : { include: [folder], exclude: [], map: [] };
  return openLocalSide(spec.url, { option: 'SOURCE', specialUseNames: profile.folders.specialUse, selection, logger });
}

/** The folder the user named, by its listed name or its levels joined with `/`. */
export function findFolder(folders: readonly FolderInfo[], name: string, label: string): FolderInfo {
  const found = folders.find((f) => f.name === name) ?? folders.find((f) => f.components.join('/') === name);
  if (!found) throw new UsageError(`${label} has no folder ${JSON.stringify(name)} (mailferry ls lists them)`);
  return found;
}

/** Runs `fn` on the named folder, opened read-only; the store is connected first and closed after. */
export async function withFolder<T>(store: Store, folder: string, fn: (handle: FolderHandle, info: FolderInfo) => Promise<T>): Promise<T> {
  try {
    await store.connect();
    const info = findFolder(await store.listFolders(), folder, store.label);
    const handle = await store.openFolder(info.name, 'read');
    try {
      return await fn(handle, info);
    } finally {
      await handle.close();
    }
  } finally {
    await store.close();
  }
}

/** The exact bytes of one message; a UID that is not there is a usage error naming it. */
export async function rawMessage(handle: FolderHandle, folder: string, uid: number): Promise<Buffer> {
  for await (const m of handle.fetch([uid])) if (m.uid === uid) return m.raw;
  throw noMessage(folder, uid);
}

export function noMessage(folder: string, uid: number): UsageError {
  return new UsageError(`${folder} has no message with UID ${uid}`);
}

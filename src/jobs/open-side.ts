import { ProfileCatalog } from '../config/profile-catalog.js';
import type { FolderSelection } from '../engine/folder-map.js';
import type { StderrLogger } from '../reporting/logger.js';
import type { Store } from '../stores/store.js';
import type { Side } from '../domain/types.js';
import { imapStoreFor, type ConnectionPolicy, type ImapSideSpec } from './imap-side.js';

const URL_SCHEME = /^imaps?:\/\//i;

/**
 * A side given on the command line as text: an IMAP account URL, or (read-only) a path: a backup
 * directory, a backup archive, or mail other programs wrote (local-side.ts). The one place that
 * decides which kind of store a side is. `selection` names the folders the command will use, so
 * that an archive extracts only those.
 */
export async function openSide(side: Side, spec: ImapSideSpec, policy: ConnectionPolicy, logger: StderrLogger, selection?: FolderSelection): Promise<Store> {
  if (URL_SCHEME.test(spec.url)) return imapStoreFor(side, spec, policy, logger);
  // A path has no host to detect a provider by: the generic profile, unless one was named.
  const profile = spec.profile ?? ProfileCatalog.load().detect('');
  // Loaded only for a path: a command between two servers does not pay for archives and stores on disk.
  const { openLocalSide } = await import('./local-side.js');
  return openLocalSide(spec.url, { option: side === 'source' ? '--from' : '--to', specialUseNames: profile.folders.specialUse, selection, logger });
}

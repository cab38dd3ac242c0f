import { UsageError } from '../errors/errors.js';
import type { StderrLogger } from '../reporting/logger.js';
import type { Store } from '../stores/store.js';
import type { Side } from '../domain/types.js';
import { imapStoreFor, type ConnectionPolicy, type ImapSideSpec } from './imap-side.js';

const URL_SCHEME = /^imaps?:\/\//i;

/**
 * A side given on the command line as text: an IMAP account URL, or (read-only) a backup
 * directory or archive. The one place that decides which kind of store a side is.
 */
export async function openSide(side: Side, spec: ImapSideSpec, policy: ConnectionPolicy, logger: StderrLogger): Promise<Store> {
  if (URL_SCHEME.test(spec.url)) return imapStoreFor(side, spec, policy, logger);
  throw new UsageError(`--${side === 'source' ? 'from' : 'to'} ${spec.url}: expected an imap:// or imaps:// URL`);
}

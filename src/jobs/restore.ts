import type { Sides } from '../domain/types.js';
import type { EmitEvent } from '../engine/events.js';
import type { MessageFilter } from '../engine/filters.js';
import type { FolderSelection } from '../engine/folder-map.js';
import type { TrafficLimits } from '../engine/traffic.js';
import { UsageError } from '../errors/errors.js';
import type { StderrLogger } from '../reporting/logger.js';
import { runCopyJob } from './copy-job.js';
import { imapStoreFor, type ConnectionPolicy, type ImapSideSpec } from './imap-side.js';
import { withVerify, type JobResult } from './job-result.js';
import { openSide } from './open-side.js';
import { defaultStatePath } from './state-path.js';
import { verify } from './verify.js';

export interface RestoreRequest {
  /** `source.url` is a path (backup, archive, Maildir or mbox); `dest.url` an account URL. */
  sides: Sides<ImapSideSpec>;
  policy: ConnectionPolicy;
  selection: FolderSelection;
  filter: MessageFilter;
  traffic?: TrafficLimits;
  statePath?: string;
  /** `--allow-concurrent`: run even while another run writes to the same destination. */
  allowConcurrent: boolean;
  dryRun: boolean;
  /** Compare the restored folders with the backup afterwards (full, by SHA-256). */
  verify: boolean;
  /** `--errors-max`: stop once this many messages have failed. */
  errorsMax?: number;
  logger: StderrLogger;
  emit: EmitEvent;
  signal?: AbortSignal;
}

const URL_SCHEME = /^imaps?:\/\//i;

/**
 * A backup (or mail other programs wrote) into an IMAP account: the migrate pipeline with the
 * backup as the source store, so it is exactly-once and resumable through the checkpoint. Flags
 * of messages already restored are left as they are at the destination on a rerun: a restore
 * adds what is missing, it does not take the account back to the backup's state.
 */
export async function restore(req: RestoreRequest): Promise<JobResult> {
  if (URL_SCHEME.test(req.sides.source.url)) {
    throw new UsageError(`--from ${req.sides.source.url}: restore reads a backup directory, archive, Maildir or mbox; to copy from a server, use migrate`);
  }
  if (!URL_SCHEME.test(req.sides.dest.url)) {
    throw new UsageError(`--to ${req.sides.dest.url}: expected an imap:// or imaps:// account URL; restore writes to a server`);
  }
  const dest = await imapStoreFor('dest', req.sides.dest, req.policy, req.logger);
  const source = await openSide('source', req.sides.source, req.policy, req.logger, req.selection);
  const result = await runCopyJob({
    command: 'restore',
    source,
    dest,
    statePath: req.statePath ?? defaultStatePath(source.label, dest.label),
    selection: req.selection,
    filter: req.filter,
    traffic: req.traffic,
    syncFlags: false,
    connections: req.policy.connections,
    destinationLock: { allowConcurrent: req.allowConcurrent },
    dryRun: req.dryRun,
    errorsMax: req.errorsMax,
    emit: req.emit,
    signal: req.signal,
  });
  if (!req.verify || req.dryRun) return result;
  return withVerify(result, await verify({ source, dest, selection: req.selection, quick: false, connections: req.policy.connections, signal: req.signal }));
}

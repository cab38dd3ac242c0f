import type { MessageFilter } from '../engine/filters.js';
import type { TrafficLimits } from '../engine/traffic.js';
import type { FolderSelection } from '../engine/folder-map.js';
import type { EmitEvent } from '../engine/events.js';
import type { StderrLogger } from '../reporting/logger.js';
import type { Sides } from '../domain/types.js';
import { runCopyJob } from './copy-job.js';
import { imapStoreFor, type ConnectionPolicy, type ImapSideSpec } from './imap-side.js';
import { withVerify, type JobResult } from './job-result.js';
import { verify } from './verify.js';
import { OversizeDir } from './oversize-dir.js';
import { defaultStatePath } from './state-path.js';
import { mirrorDeletions } from './mirror.js';
import type { Store } from '../stores/store.js';
import { UsageError } from '../errors/errors.js';

export interface MigrateRequest {
  accounts: Sides<ImapSideSpec>;
  policy: ConnectionPolicy;
  selection: FolderSelection;
  filter: MessageFilter;
  traffic?: TrafficLimits;
  /** `--oversize-dir`: keep messages too large for the destination here. */
  oversizeDir?: string;
  syncFlags: boolean;
  statePath?: string;
  /** `--allow-concurrent`: run even while another run writes to the same destination. */
  allowConcurrent: boolean;
  dryRun: boolean;
  /** Compare both accounts after the transfer (full, by SHA-256). */
  verify: boolean;
  /** `--errors-max`: stop once this many messages have failed. */
  errorsMax?: number;
  /** `--propagate-deletes`: remove at the destination the copies whose source message is gone. */
  propagateDeletes: boolean;
  logger: StderrLogger;
  emit: EmitEvent;
  signal?: AbortSignal;
}

/** IMAP account to IMAP account, exactly once, resumable. */
export async function migrate(req: MigrateRequest): Promise<JobResult> {
  const source = await imapStoreFor('source', req.accounts.source, req.policy, req.logger);
  const dest = await imapStoreFor('dest', req.accounts.dest, req.policy, req.logger);
  const result = await runCopyJob({
    command: 'migrate',
    source,
    dest,
    statePath: req.statePath ?? defaultStatePath(source.label, dest.label),
    selection: req.selection,
    filter: req.filter,
    traffic: req.traffic,
    oversize: req.oversizeDir ? new OversizeDir(req.oversizeDir) : undefined,
    syncFlags: req.syncFlags,
    connections: req.policy.connections,
    destinationLock: { allowConcurrent: req.allowConcurrent },
    dryRun: req.dryRun,
    errorsMax: req.errorsMax,
    emit: req.emit,
    signal: req.signal,
    ...(req.propagateDeletes
      ? {
          afterTransfer: async ({ pairs, reports, checkpoint }) => {
            requireUidExpunge(dest);
            await mirrorDeletions({ source, dest, checkpoint, emit: req.emit }, pairs, reports);
          },
          afterPreview: async ({ pairs, reports, checkpoint }) => {
            requireUidExpunge(dest);
            await mirrorDeletions({ source, dest, checkpoint, emit: req.emit, dryRun: true }, pairs, reports);
          },
        }
      : {}),
  });
  if (!req.verify || req.dryRun) return result;
  return withVerify(result, await verify({ source, dest, selection: req.selection, quick: false, connections: req.policy.connections, signal: req.signal }));
}

/**
 * Without UIDPLUS only a bare EXPUNGE exists, which removes every message marked \\Deleted in the
 * folder, also what others marked: --propagate-deletes is refused rather than risk that.
 */
function requireUidExpunge(dest: Store): void {
  if (!dest.caps.returnsUidOnAppend) throw new UsageError(`--propagate-deletes: ${dest.label} has no UIDPLUS (UID EXPUNGE), and a bare EXPUNGE could remove other messages`);
}

import { SqliteCheckpoint, type CheckpointIdentity } from '../checkpoint/sqlite-checkpoint.js';
import type { FolderInfo } from '../domain/types.js';
import type { Checkpoint } from '../engine/checkpoint.js';
import type { EmitEvent } from '../engine/events.js';
import type { MessageFilter } from '../engine/filters.js';
import { planFolders, type FolderSelection, type PlannedFolder } from '../engine/folder-map.js';
import type { FolderPair } from '../engine/folder-sync.js';
import { emptyReport, type FolderReport } from '../engine/report.js';
import { runTransfer } from '../engine/run-transfer.js';
import { TrafficControl, type TrafficLimits } from '../engine/traffic.js';
import type { OversizeSink } from '../engine/oversize.js';
import { FolderError } from '../errors/errors.js';
import type { Store } from '../stores/store.js';
import { finishResult, type JobResult } from './job-result.js';

export interface CopyJobRequest {
  command: string;
  source: Store;
  dest: Store;
  statePath: string;
  selection: FolderSelection;
  filter: MessageFilter;
  syncFlags: boolean;
  connections: number;
  dryRun: boolean;
  /** Where messages too large for the destination are kept (`--oversize-dir`). */
  oversize?: OversizeSink;
  /** Rate limits and daily caps (`--max-bytes-per-second`, `--daily-limit-down`, ...). */
  traffic?: TrafficLimits;
  /** First back-off after a broken connection (tests shorten it). */
  retryDelayMs?: number;
  /** Below this many messages per extra connection a folder is not split (tests lower it). */
  minMessagesPerRange?: number;
  emit: EmitEvent;
  signal?: AbortSignal;
  /** Whose checkpoint this is, when not the stores' labels (a backup's lives inside it, wherever it is moved). */
  checkpointIdentity?: CheckpointIdentity;
  /** Runs after the transfer while stores and checkpoint are still open (backup: manifest, --mirror). */
  afterTransfer?: (run: { pairs: FolderPair[]; reports: FolderReport[]; checkpoint: Checkpoint }) => Promise<void>;
}

/**
 * The lifecycle every copying job shares (migrate, backup, restore): connect both sides, plan the
 * folder mapping, create what is missing, then run the engine against the checkpoint. Stores are
 * closed whatever happens.
 */
export async function runCopyJob(req: CopyJobRequest): Promise<JobResult> {
  const started = Date.now();
  try {
    await Promise.all([req.source.connect(), req.dest.connect()]);
    const [sourceFolders, destFolders] = await Promise.all([req.source.listFolders(req.dest.caps), req.dest.listFolders()]);
    const plan = planFolders(sourceFolders, destFolders, destDelimiter(destFolders), req.selection);
    const base = { command: req.command, source: req.source.label, destination: req.dest.label, dryRun: req.dryRun };
    if (req.dryRun) {
      const folders = plan.map((p) => ({ ...emptyReport(p.source.name, destName(p, destFolders)), found: p.source.status?.messages ?? 0 }));
      return finishResult({ ...base, folders, seconds: (Date.now() - started) / 1000 });
    }

    const checkpoint = SqliteCheckpoint.open(req.statePath, req.checkpointIdentity ?? { source: req.source.label, dest: req.dest.label });
    try {
      const { pairs, refused } = await ensureDestFolders(req, plan);
      for (const p of plan.filter((f) => f.note)) req.emit({ type: 'notice', message: `${p.source.name}: ${p.note}` });
      req.emit({
        type: 'plan',
        folders: pairs.length,
        messages: pairs.reduce((a, p) => a + (p.source.status?.messages ?? 0), 0),
        bytes: 0,
      });
      const reports = await runTransfer(
        {
          source: req.source,
          dest: req.dest,
          checkpoint,
          options: {
            filter: req.filter,
            syncFlags: req.syncFlags,
            // Two batches per worker are in memory: one being written, the next being fetched.
            batchMessages: 250,
            batchBytes: 8 << 20,
            minMessagesPerRange: req.minMessagesPerRange ?? 500,
          },
          emit: req.emit,
          signal: req.signal,
          oversize: req.oversize,
          traffic: new TrafficControl(req.traffic ?? {}, checkpoint, { source: req.source.label, dest: req.dest.label }),
        },
        pairs,
        { connections: req.connections, attempts: 6, retryDelayMs: req.retryDelayMs ?? 1000, signal: req.signal },
      );
      await req.afterTransfer?.({ pairs, reports, checkpoint });
      return finishResult({ ...base, folders: [...reports, ...refused], seconds: (Date.now() - started) / 1000, checkpoint: checkpoint.location });
    } finally {
      checkpoint.close();
    }
  } finally {
    await Promise.all([req.source.close(), req.dest.close()]);
  }
}

/** Creates missing destination folders; a refused one is reported and the others go on. */
async function ensureDestFolders(req: CopyJobRequest, plan: PlannedFolder[]): Promise<{ pairs: FolderPair[]; refused: FolderReport[] }> {
  const pairs: FolderPair[] = [];
  const refused: FolderReport[] = [];
  const created = new Map<string, FolderInfo>();
  for (const p of plan) {
    const key = p.destComponents.join('\u0000');
    let dest = p.dest ?? created.get(key);
    if (!dest) {
      try {
        dest = await req.dest.createFolder(p.destComponents, { specialUse: p.specialUse, subscribe: p.subscribe });
        created.set(key, dest);
      } catch (err) {
        if (!(err instanceof FolderError)) throw err;
        refused.push({ ...emptyReport(p.source.name, p.destComponents.join('/')), found: p.source.status?.messages ?? 0, error: err.message });
        continue;
      }
    }
    pairs.push({ source: p.source, dest });
  }
  return { pairs, refused };
}

/** The destination's hierarchy delimiter, as its INBOX (or any folder) reports it. */
export function destDelimiter(folders: FolderInfo[]): string {
  return (folders.find((f) => f.name.toUpperCase() === 'INBOX') ?? folders[0])?.delimiter || '/';
}

function destName(p: PlannedFolder, destFolders: FolderInfo[]): string {
  return p.dest?.name ?? p.destComponents.join(destDelimiter(destFolders));
}

import { existsSync } from 'node:fs';
import { SqliteCheckpoint, type CheckpointIdentity } from '../checkpoint/sqlite-checkpoint.js';
import { DestinationLock } from '../checkpoint/destination-lock.js';
import type { FolderInfo } from '../domain/types.js';
import type { Checkpoint } from '../engine/checkpoint.js';
import type { EmitEvent } from '../engine/events.js';
import type { MessageFilter } from '../engine/filters.js';
import { planFolders, type FolderSelection, type PlannedFolder } from '../engine/folder-map.js';
import { isUnchanged, type FolderPair, type SyncOptions } from '../engine/folder-sync.js';
import { previewTransfer } from '../engine/preview.js';
import type { FolderReport } from '../engine/report.js';
import { runTransfer } from '../engine/run-transfer.js';
import { TrafficControl, type TrafficLimits } from '../engine/traffic.js';
import { ErrorBudget } from '../engine/error-budget.js';
import type { OversizeSink } from '../engine/oversize.js';
import type { Store } from '../stores/store.js';
import { acceptedOwner } from './checkpoint-owner.js';
import { finishResult, type JobResult } from './job-result.js';
import { stateDir } from './state-path.js';
import { reconnecting } from './reconnecting.js';
import { checkSearch } from './search-check.js';
import { firstRunPlan } from './first-run-plan.js';

/** Tries per folder when a connection breaks. */
const ATTEMPTS = 6;
/**
 * Tries to connect and list folders: enough to ride out a server restarting (1 + 2 + 4 s of
 * back-off), not so many that a wrong port keeps the user waiting long.
 */
const CONNECT_ATTEMPTS = 4;

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
  /** `--errors-max`: stop once this many messages have failed. */
  errorsMax?: number;
  /** First back-off after a broken connection (tests shorten it). */
  retryDelayMs?: number;
  /** Below this many messages per extra connection a folder is not split (tests lower it). */
  minMessagesPerRange?: number;
  emit: EmitEvent;
  signal?: AbortSignal;
  /**
   * Refuse to run while another run writes to the same destination account with another
   * checkpoint (migrate, restore: see destination-lock.ts), unless concurrency is allowed.
   */
  destinationLock?: { allowConcurrent: boolean };
  /** Whose checkpoint this is, when not the stores' labels (a backup's lives inside it, wherever it is moved). */
  checkpointIdentity?: CheckpointIdentity;
  /** Runs after the transfer while stores and checkpoint are still open (backup: manifest, --mirror). */
  afterTransfer?: (run: { pairs: FolderPair[]; reports: FolderReport[]; checkpoint: Checkpoint }) => Promise<void>;
  /**
   * Runs after a dry run's preview, with the folder pairs whose destination exists, when there is
   * a checkpoint (migrate --propagate-deletes: what would be removed).
   */
  afterPreview?: (run: { pairs: FolderPair[]; reports: FolderReport[]; checkpoint: Checkpoint }) => Promise<void>;
}

/**
 * The lifecycle every copying job shares (migrate, backup, restore): connect both sides, plan the
 * folder mapping, create what is missing, then run the engine against the checkpoint. Stores are
 * closed whatever happens.
 */
export async function runCopyJob(req: CopyJobRequest): Promise<JobResult> {
  const started = Date.now();
  req.emit({ type: 'accounts', source: req.source.label, destination: req.dest.label });
  const lock = req.destinationLock && !req.dryRun ? DestinationLock.take(stateDir(), req.dest.label, req.statePath, req.destinationLock.allowConcurrent) : undefined;
  try {
    const retryDelayMs = req.retryDelayMs ?? 1000;
    const firstRun = !existsSync(req.statePath);
    const opened = await reconnecting(
      'connecting',
      async () => {
        // The stores open them once a login went through (a wrong password is tried once, not
        // once per connection), while the first connection still sets its session up.
        if (firstRun && !req.dryRun) warm(req, req.connections);
        await Promise.all([req.source.connect(), req.dest.connect()]);
        return Promise.all([req.source.listFolders(req.dest.caps), req.dest.listFolders()]);
      },
      { attempts: CONNECT_ATTEMPTS, delayMs: retryDelayMs, emit: req.emit, signal: req.signal },
    );
    const [sourceFolders, destFolders] = opened.value;
    const plan = planFolders(sourceFolders, destFolders, destDelimiter(destFolders), req.selection);
    const base = {
      command: req.command, source: req.source.label, destination: req.dest.label, dryRun: req.dryRun, reconnects: opened.reconnects,
      ...(req.filter.search !== undefined ? { search: req.filter.search } : {}),
    };
    const identity = req.checkpointIdentity ?? { source: req.source.label, dest: req.dest.label };
    const options: SyncOptions = {
      filter: req.filter,
      syncFlags: req.syncFlags,
      // Two batches per worker are in memory: one being written, the next being fetched.
      batchMessages: 250,
      batchBytes: 8 << 20,
      minMessagesPerRange: req.minMessagesPerRange ?? 500,
    };
    const owner = await acceptedOwner(req.statePath, identity, (message) => req.emit({ type: 'notice', message }), !req.dryRun);
    if (req.filter.search !== undefined) {
      // Before the checkpoint is created and any folder is: criteria the server refuses write nothing.
      const journal = SqliteCheckpoint.openReadOnly(req.statePath, identity, owner);
      try {
        await checkSearch(req.source, req.dest, plan.map((p): FolderPair => ({ source: p.source, dest: p.dest ?? plannedDest(p, destFolders) })), options, journal);
      } finally {
        journal?.close();
      }
    }
    if (req.dryRun) {
      const journal = SqliteCheckpoint.openReadOnly(req.statePath, identity, owner);
      try {
        const pairs = plan.map((p): FolderPair => ({ source: p.source, dest: p.dest ?? plannedDest(p, destFolders) }));
        const folders = await previewTransfer({ source: req.source, dest: req.dest, checkpoint: journal, options, connections: req.connections }, pairs);
        if (journal) await req.afterPreview?.({ pairs: pairs.filter((_, i) => plan[i]!.dest), reports: folders, checkpoint: journal });
        return finishResult({ ...base, folders, seconds: (Date.now() - started) / 1000 });
      } finally {
        journal?.close();
      }
    }

    const { pairs, created } = destPairs(req, plan);
    for (const p of plan.filter((f) => f.note)) req.emit({ type: 'notice', message: `${p.source.name}: ${p.note}` });
    const createdEarly = firstRun ? createEarly(pairs) : undefined;
    // Counted before the checkpoint exists, so a run stopped meanwhile is still a first run; read
    // only, so retried after a broken connection as connecting and listing are.
    const planned = !firstRun
      ? undefined
      : await reconnecting('counting the first run', () => firstRunPlan({ source: req.source, dest: req.dest, options, connections: req.connections }, pairs), { attempts: CONNECT_ATTEMPTS, delayMs: retryDelayMs, emit: req.emit, signal: req.signal });
    const runPlan = planned?.value;
    if (runPlan) req.emit({ type: 'first-run', plan: runPlan });
    const checkpoint = SqliteCheckpoint.open(req.statePath, identity, owner);
    try {
      if (!firstRun) warm(req, pairs.filter((p) => !isUnchanged({ checkpoint, options, dest: req.dest }, p, checkpoint.folder(p.source.name))).length);
      req.emit({
        type: 'plan',
        folders: pairs.length,
        messages: pairs.reduce((a, p) => a + (p.source.status?.messages ?? 0), 0),
        bytes: 0,
        sources: pairs.map((p) => ({ source: p.source.name, messages: p.source.status?.messages ?? 0 })),
      });
      // The transfer does not wait for them: a folder's worker waits for its own folder's CREATE
      // (createDest), and the others' folders, INBOX first of all, need none. A store sends the
      // CREATEs on a connection it holds until they are done (imap-store.ts), so with one
      // connection they all still go before the first APPEND.
      const reports = await runTransfer(
        {
          source: req.source,
          dest: req.dest,
          checkpoint,
          options,
          emit: req.emit,
          signal: req.signal,
          oversize: req.oversize,
          traffic: new TrafficControl(req.traffic ?? {}, checkpoint, { source: req.source.label, dest: req.dest.label }),
          errors: req.errorsMax === undefined ? undefined : new ErrorBudget(req.errorsMax),
        },
        pairs,
        { connections: req.connections, attempts: ATTEMPTS, retryDelayMs, signal: req.signal },
      );
      // Only the pairs whose destination folder exists (as before, when a refused one was no pair).
      await req.afterTransfer?.({ pairs: pairs.filter((p) => !p.createDest || created.has(p)), reports, checkpoint });
      return finishResult({
        ...base, reconnects: base.reconnects + (planned?.reconnects ?? 0), folders: reports, seconds: (Date.now() - started) / 1000, checkpoint: checkpoint.location, ...(runPlan ? { plan: runPlan } : {}),
      });
    } finally {
      // Nothing is left under way: a failed transfer may have left folders it never reached.
      await createdEarly;
      checkpoint.close();
    }
  } finally {
    try {
      await Promise.all([req.source.close(), req.dest.close()]);
    } finally {
      lock?.release();
    }
  }
}

/** Both sides open the connections `busy` folders will use, all at once rather than as workers reach them. */
function warm(req: CopyJobRequest, busy: number): void {
  const connections = Math.min(req.connections, busy);
  if (connections === 0) return;
  req.source.warm?.(connections);
  req.dest.warm?.(connections);
}

/**
 * A first run has every folder to copy: while its plan scans the source, the missing destination
 * folders are created on destination connections that would otherwise wait (at 100 ms RTT a
 * CREATE is a tenth of a second a folder's worker would otherwise pay before its first message).
 * A folder that cannot be created here is tried again, and reported, by its worker (createDest
 * keeps no failure). Settles, never rejects.
 */
function createEarly(pairs: FolderPair[]): Promise<void> {
  return Promise.allSettled(pairs.map((p) => p.createDest?.())).then(() => undefined);
}

/**
 * The folder pairs to run. A destination folder that is missing is created by its folder's worker
 * (`FolderPair.createDest`) while it opens the source folder, rather than all of them one after the
 * other before the transfer starts: at 40 ms RTT that took seconds before the first message moved.
 * A folder is created after its parent in the plan, so no server has to invent the parent as a
 * placeholder first; a refused folder is reported (runTransfer) and the others go on.
 */
function destPairs(req: CopyJobRequest, plan: PlannedFolder[]): { pairs: FolderPair[]; created: Set<FolderPair> } {
  const keyOf = (components: string[]): string => components.join('\u0000');
  const missing = new Map<string, PlannedFolder>();
  for (const p of plan) if (!p.dest && !missing.has(keyOf(p.destComponents))) missing.set(keyOf(p.destComponents), p);
  // Once per folder however many pairs and retries ask; a failure is not kept, so a retry tries again.
  const creations = new Map<string, Promise<FolderInfo>>();
  const create = (components: string[]): Promise<FolderInfo> => {
    const key = keyOf(components);
    let made = creations.get(key);
    if (!made) {
      const p = missing.get(key)!;
      const parents = components.slice(0, -1).map((_, i) => components.slice(0, i + 1)).filter((c) => missing.has(keyOf(c)));
      // A parent that is refused does not keep its children from being tried, as before.
      made = Promise.allSettled(parents.map(create)).then(() => req.dest.createFolder(p.destComponents, { specialUse: p.specialUse, subscribe: p.subscribe }));
      const mine = made;
      made.catch(() => {
        if (creations.get(key) === mine) creations.delete(key);
      });
      creations.set(key, made);
    }
    return made;
  };
  const created = new Set<FolderPair>();
  const pairs = plan.map((p): FolderPair => {
    if (p.dest) return { source: p.source, dest: p.dest };
    const pair: FolderPair = {
      source: p.source,
      // Stands in until created: the name the report gives a folder that could not be created,
      // as the CREATE sent it.
      dest: { name: req.dest.folderName?.(p.destComponents) ?? p.destComponents.join('/'), components: p.destComponents, delimiter: '/', specialUse: p.specialUse, subscribed: p.subscribe },
      createDest: async () => {
        const dest = await create(p.destComponents);
        created.add(pair);
        return dest;
      },
    };
    return pair;
  });
  return { pairs, created };
}

/** The destination's hierarchy delimiter, as its INBOX (or any folder) reports it. */
export function destDelimiter(folders: FolderInfo[]): string {
  return (folders.find((f) => f.name.toUpperCase() === 'INBOX') ?? folders[0])?.delimiter || '/';
}

/** A destination folder a dry run would create, named as the destination would name it. */
function plannedDest(p: PlannedFolder, destFolders: FolderInfo[]): FolderInfo {
  const delimiter = destDelimiter(destFolders);
  return { name: p.destComponents.join(delimiter), components: p.destComponents, delimiter, specialUse: p.specialUse, subscribed: p.subscribe };
}

import PQueue from 'p-queue';
import { ConnectionError, FolderError, InterruptedError, ThrottleError } from '../errors/errors.js';
import { PauseGate } from './pause-gate.js';
import { ByteBudget } from './byte-budget.js';
import { StoredCopyTrust } from './stored-copy-trust.js';
import { syncFolder, type FolderPair, type SyncContext } from './folder-sync.js';
import { emptyReport, type FolderReport } from './report.js';
import { Lanes } from './lanes.js';

export interface RunOptions {
  /** Folders worked on at once; each holds one connection per side. */
  connections: number;
  /** Attempts per folder when a connection breaks (the journal makes a retry safe). */
  attempts: number;
  retryDelayMs: number;
  signal?: AbortSignal;
}

/**
 * Runs every folder pair through `syncFolder`, `connections` at a time, biggest first so the long
 * ones start early. A broken connection retries that folder (resuming from the journal); an error
 * that concerns a whole side (authentication, quota) stops the run and leaves the rest for a rerun.
 */
export async function runTransfer(ctx: SyncContext, pairs: FolderPair[], options: RunOptions): Promise<FolderReport[]> {
  const connections = Math.max(1, options.connections);
  const queue = new PQueue({ concurrency: connections });
  const lanes = new Lanes(queue, connections, pairs.reduce((a, p) => a + (p.source.status?.messages ?? 0), 0) / connections);
  const laneCtx: SyncContext = { ...ctx, lanes, gate: new PauseGate(), memory: ctx.memory ?? new ByteBudget(MEMORY_BUDGET_BYTES, SLOW_LINK_MEMORY_BUDGET_BYTES, FAR_LINK_MEMORY_BUDGET_BYTES), storedCopies: ctx.storedCopies ?? new StoredCopyTrust() };
  const reports: FolderReport[] = [];
  let fatal: unknown;
  const ordered = [...pairs].sort((a, b) => (b.source.status?.messages ?? 0) - (a.source.status?.messages ?? 0));
  const onAbort = (): void => queue.clear();
  options.signal?.addEventListener('abort', onAbort);
  try {
    for (const pair of ordered) {
      void queue.add(async () => {
        if (fatal) return;
        try {
          const report = await withRetries(laneCtx, pair, options);
          reports.push(report);
          ctx.emit({ type: 'folder-done', report });
        } catch (err) {
          if (err instanceof FolderError) {
            const report = { ...emptyReport(pair.source.name, pair.dest.name), found: pair.source.status?.messages ?? 0, error: err.message };
            reports.push(report);
            ctx.emit({ type: 'folder-done', report });
            return;
          }
          fatal ??= err;
          queue.clear();
        }
      });
    }
    await queue.onIdle();
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (fatal) throw fatal;
  if (options.signal?.aborted) throw new InterruptedError();
  return reports;
}

async function withRetries(ctx: SyncContext, pair: FolderPair, options: RunOptions): Promise<FolderReport> {
  let failures = 0;
  const report = emptyReport(pair.source.name, pair.dest.name);
  for (;;) {
    await ctx.gate?.wait(options.signal);
    if (options.signal?.aborted) throw new InterruptedError();
    try {
      return await syncFolder(ctx, pair, report);
    } catch (err) {
      // An interrupt drops the connections: what broke is not to be retried.
      if (options.signal?.aborted) throw new InterruptedError();
      if (!(err instanceof ConnectionError)) throw err;
      // Throttling is the server working as designed: wait as told, however often. A broken
      // connection counts as an attempt, with exponential back-off.
      const throttled = err instanceof ThrottleError;
      if (!throttled && ++failures >= options.attempts) throw err;
      if (!throttled) report.reconnects = (report.reconnects ?? 0) + 1;
      const delay = throttled ? err.retryAfterMs : Math.min(options.retryDelayMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
      ctx.gate?.pause(delay);
      const what = throttled ? 'pausing every connection' : `retry ${failures} of ${options.attempts - 1}`;
      ctx.emit({ type: 'notice', message: `${pair.source.name}: ${err.message}; ${what} for ${(delay / 1000).toFixed(1)} s, then resuming` });
    }
  }
}

const MAX_BACKOFF_MS = 60_000;
/** Message bytes in memory for the whole run: two 8 MB batches; more only buys garbage to collect (bench: 48 MB was slower and 40 MB heavier). */
const MEMORY_BUDGET_BYTES = 16 << 20;
/** On a slow link (see ByteBudget): the bench's 4 MB/s migration peaked at 140–145 MB RSS with it. */
const SLOW_LINK_MEMORY_BUDGET_BYTES = 48 << 20;
/** On a far link (see ByteBudget): round trips hold the batches there, and 48 MB bought nothing over 32 but memory. */
const FAR_LINK_MEMORY_BUDGET_BYTES = 32 << 20;

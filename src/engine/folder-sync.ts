import { InterruptedError, StreamUnavailableError, UsageError } from '../errors/errors.js';
import type { FolderInfo, MessageData, MessageMeta } from '../domain/types.js';
import type { AppendOutcome, FolderHandle, ScanRange, Store } from '../stores/store.js';
import { SEARCH_CHANGING, type Checkpoint, type FolderState, type MessageRow } from './checkpoint.js';
import { ContentIndex } from './content-index.js';
import type { EmitEvent } from './events.js';
import { skipReason, type MessageFilter } from './filters.js';
import { liftable, stillSkipped } from './skipped-rows.js';
import { sha256 } from './hash.js';
import { emptyReport, type FolderReport, type MessageFailure } from './report.js';
import { batches, prefetched } from './batches.js';
import type { Lanes } from './lanes.js';
import type { PauseGate } from './pause-gate.js';
import type { TrafficControl } from './traffic.js';
import type { OversizeSink } from './oversize.js';
import type { ByteBudget } from './byte-budget.js';
import type { ErrorBudget } from './error-budget.js';
import { flagsForDest, sameFlags } from './flags.js';
import { storedDifferences, type StoredDifference } from './stored-copy.js';
import { journaledBody } from './journaled-body.js';
import { MessageShape } from './message-shape.js';
import type { StoredCopyTrust } from './stored-copy-trust.js';

export interface SyncOptions {
  filter: MessageFilter;
  /** Carry flag changes of already-copied messages to the destination. */
  syncFlags: boolean;
  batchMessages: number;
  batchBytes: number;
  /** A folder is split into parallel UID ranges only with at least this many messages per range. */
  minMessagesPerRange: number;
}

export interface FolderPair {
  source: FolderInfo;
  dest: FolderInfo;
  /**
   * Set when the destination folder does not exist yet: creates it (once, however often called)
   * and answers its listing, which then replaces `dest` (until then a stand-in with the planned
   * name, for the report of a folder that cannot be created). The folder's worker calls it while
   * the source folder is being opened, so creating folders costs no round trips of their own.
   */
  createDest?: () => Promise<FolderInfo>;
}

export interface SyncContext {
  source: Store;
  dest: Store;
  checkpoint: Checkpoint;
  options: SyncOptions;
  emit: EmitEvent;
  /** Checked between batches: an abort stops after the batch in hand is journaled. */
  signal?: AbortSignal;
  /** The run's connection slots, where a big folder's extra UID ranges are queued. */
  lanes?: Lanes;
  /** Shared pause: a throttled or dropped connection holds every worker back for a while. */
  gate?: PauseGate;
  /** Rate limits and daily caps. */
  traffic?: TrafficControl;
  /** Keeps messages too large for the destination (`--oversize-dir`). */
  oversize?: OversizeSink;
  /** Bytes of fetched messages all workers together may hold. */
  memory?: ByteBudget;
  /** `--errors-max`: failed messages after which the run stops. */
  errors?: ErrorBudget;
  /** What the destination was seen to store, so what it stores as sent is not read back all run long. */
  storedCopies?: StoredCopyTrust;
}

/**
 * Brings one destination folder up to date with one source folder, exactly once: the heart of
 * migrate, backup and restore (mbsync's sync.c in spirit).
 *
 * A *full* pass (first run, or either side's UIDVALIDITY changed) looks at every source message
 * and matches it by content against the whole destination folder, so nothing is copied twice
 * and nothing is lost whatever state was lost. An *incremental* pass takes only new UIDs, rows
 * left pending or failed by an earlier run, and flag changes.
 */
export async function syncFolder(
  ctx: SyncContext,
  pair: FolderPair,
  /** Carried across retries, so work done by an attempt that then broke is still reported. */
  report: FolderReport = emptyReport(pair.source.name, pair.dest.name),
): Promise<FolderReport> {
  const state = ctx.checkpoint.folder(pair.source.name);
  if (state && isUnchanged(ctx, pair, state)) {
    report.found = pair.source.status?.messages ?? 0;
    report.skipped = stillSkipped(ctx.checkpoint.rows(state.srcName, state.srcUidValidity, ['skipped']), filterFor(ctx), state.search);
    return report;
  }
  // Without a journal for this folder the pass is a full one: its scan of the source need not
  // wait for the destination folder to be opened (or created).
  const { src, dst, scanned } = await openBoth(ctx, pair, state === undefined);
  try {
    report.destination = pair.dest.name;
    report.found = src.status.messages;
    await new FolderRun(ctx, pair, src, dst, state, report, scanned).run();
  } finally {
    await scanned?.catch(() => undefined);
    await Promise.all([dst.close(), src.close()]);
  }
  return report;
}

/**
 * Opens the source folder (EXAMINE) and the destination folder (SELECT, after CREATE for a new
 * one) at the same time: each is a round trip on its own connection, and neither needs the other.
 * With `scanSource`, the source folder's full scan starts as soon as it is open. If one fails, the
 * other is closed again.
 */
async function openBoth(ctx: SyncContext, pair: FolderPair, scanSource = false): Promise<Handles & { scanned?: Promise<MessageMeta[]> }> {
  const openDest = async (): Promise<FolderHandle> => {
    if (pair.createDest) pair.dest = await pair.createDest();
    return ctx.dest.openFolder(pair.dest.name, 'write');
  };
  const first = scanSource ? firstScan(ctx, pair) : undefined;
  const began = performance.now();
  const openSrc = ctx.source.openFolder(pair.source.name, 'read', first);
  void openSrc.then(() => ctx.memory?.opened(performance.now() - began), () => undefined);
  const scanned = first ? openSrc.then((h) => h.scan(first)) : undefined;
  // Observed by whoever awaits it; this only keeps a failure meanwhile from crashing the process.
  scanned?.catch(() => undefined);
  const [src, dst] = await Promise.allSettled([openSrc, openDest()]);
  if (src.status === 'fulfilled' && dst.status === 'fulfilled') return { src: src.value, dst: dst.value, scanned };
  // A connection goes back to the pool only once its command is answered.
  await scanned?.catch(() => undefined);
  if (src.status === 'fulfilled') await src.value.close();
  if (dst.status === 'fulfilled') await dst.value.close();
  throw src.status === 'rejected' ? src.reason : (dst as PromiseRejectedResult).reason;
}

/**
 * The full scan that starts a folder's first copy: a small folder (by its listing's size) may
 * bring its messages along, one round trip instead of two, its bytes held outside the run's byte
 * window until they are written (at most SMALL_FOLDER_BYTES per connection).
 */
function firstScan(ctx: SyncContext, pair: FolderPair): ScanRange {
  const s = pair.source.status;
  if (s?.size === undefined || s.size > SMALL_FOLDER_BYTES || s.messages > ctx.options.batchMessages) return {};
  return { withBodies: { uidNext: s.uidNext, messages: s.messages, size: s.size } };
}

/** A no-change rerun must cost no SELECT: the listings' STATUS answers whether to look inside. */
export function isUnchanged(ctx: Pick<SyncContext, 'checkpoint' | 'options' | 'dest'>, pair: FolderPair, state: FolderState | undefined): boolean {
  const s = pair.source.status;
  const d = pair.dest.status;
  if (!state || !s || !d || state.destName !== pair.dest.name || d.lost) return false;
  if (s.uidValidity !== state.srcUidValidity || d.uidValidity !== state.destUidValidity) return false;
  if (s.uidNext !== state.srcUidNext) return false;
  // Without HIGHESTMODSEQ a flag change is invisible to STATUS, so only skip when flags don't matter.
  if (ctx.options.syncFlags && (s.highestModseq === undefined || s.highestModseq !== state.srcModseq)) return false;
  const open = ctx.checkpoint.rows(state.srcName, state.srcUidValidity, ['pending', 'failed', 'skipped']);
  const filter = filterFor(ctx);
  return !open.some((r) => r.state !== 'skipped' || liftable(r, filter, state.search));
}

/** The UIDs that match the run's search criteria; undefined when it has none. */
export async function searchSource(src: FolderHandle, filter: MessageFilter): Promise<ReadonlySet<number> | undefined> {
  if (filter.search === undefined) return undefined;
  if (!src.search) throw new UsageError('--search: this source cannot search its messages');
  return new Set(await src.search(filter.search));
}

/** The user's filters plus the destination's own size limit. */
export function filterFor(ctx: Pick<SyncContext, 'options' | 'dest'>): MessageFilter {
  return { ...ctx.options.filter, destMaxSize: ctx.dest.caps.maxMessageSize ?? ctx.options.filter.destMaxSize };
}

class FolderRun {
  private readonly uidValidity: number;
  private readonly filter: MessageFilter;
  private destFloor: number;
  /** Left out for their size before fetching; saved to the oversize directory after the copy. */
  private readonly oversized: MessageMeta[] = [];

  constructor(
    private readonly ctx: SyncContext,
    private readonly pair: FolderPair,
    private readonly src: FolderHandle,
    private readonly dst: FolderHandle,
    private readonly state: FolderState | undefined,
    private readonly report: FolderReport,
    /** The source folder's full scan, when it was started with the opening (see syncFolder). */
    private readonly scanned?: Promise<MessageMeta[]>,
  ) {
    this.uidValidity = src.status.uidValidity;
    this.filter = filterFor(ctx);
    this.destFloor = dst.status.uidNext;
  }

  async run(): Promise<void> {
    await this.letLateAppendsLand();
    await this.forgetLostCopies();
    const full = this.isFullPass();
    const { todo, index, doneThrough } = full ? await this.planFull() : await this.planIncremental();
    const saved: FolderState = {
      srcName: this.pair.source.name,
      srcUidValidity: this.uidValidity,
      srcUidNext: this.state && !full ? this.state.srcUidNext : 0,
      srcModseq: this.state && !full ? this.state.srcModseq : undefined,
      doneThrough,
      destName: this.pair.dest.name,
      destUidValidity: this.dst.status.uidValidity,
      // Until this pass is through, its rows and the last pass's were judged by different criteria.
      search: this.state?.search === this.filter.search ? this.filter.search : SEARCH_CHANGING,
    };
    this.ctx.checkpoint.saveFolder(saved);

    const copy = await this.selectForCopy(todo);
    this.ctx.emit({
      type: 'folder-start',
      source: this.pair.source.name,
      destination: this.pair.dest.name,
      messages: copy.length,
      bytes: copy.reduce((a, m) => a + m.size, 0),
    });
    await this.copyRanges(copy, index, saved);
    await this.saveOversized();
    this.countSkips();
    // Copied as far as the source listed it: the pass is not through, so the next one looks again.
    if (this.src.incomplete) {
      this.report.error = `${this.src.incomplete}; the folder is not complete, a later run copies the rest`;
      return;
    }
    // Only now is the folder known to be complete up to the UIDNEXT seen at SELECT.
    saved.srcUidNext = this.src.status.uidNext;
    saved.srcModseq = this.src.status.highestModseq;
    saved.doneThrough = Math.max(saved.doneThrough, this.src.status.uidNext - 1);
    saved.search = this.filter.search;
    this.ctx.checkpoint.saveFolder(saved);
  }

  /**
   * A run that died while an APPEND was on its way leaves it pending; the server may still commit
   * it (finishing a MULTIAPPEND, or bytes the dead process's socket still sent). Looking for it too
   * early would miss it and copy it again, so wait until the intent is SETTLE_MS old.
   */
  private async letLateAppendsLand(): Promise<void> {
    if (!this.ctx.dest.caps.appendsMayLandLate || !this.state) return;
    const pending = this.ctx.checkpoint.rows(this.state.srcName, this.state.srcUidValidity, ['pending']);
    const youngest = Math.max(0, ...pending.map((r) => r.intentAt ?? 0));
    const wait = youngest + SETTLE_MS - Date.now();
    if (wait <= 0) return;
    this.notice(`${this.pair.source.name}: an APPEND of the last run was not answered; waiting ${(wait / 1000).toFixed(1)} s for it to land before looking for it`);
    await new Promise((r) => setTimeout(r, wait));
  }

  /**
   * Copies the destination lost (a backup's files deleted or cut short) are journaled as failed,
   * so this pass, or the next if this one is cut short, copies them again; only then does the
   * store drop them for good. A crash in between finds them lost again.
   */
  private async forgetLostCopies(): Promise<void> {
    const lost = this.dst.lostCopies;
    if (!lost || lost.size === 0) return;
    const s = this.state;
    if (s && s.destName === this.pair.dest.name && s.destUidValidity === this.dst.status.uidValidity) {
      const rows = this.ctx.checkpoint.rows(s.srcName, s.srcUidValidity, ['done']).filter((r) => r.destUid !== undefined && lost.has(r.destUid));
      if (rows.length > 0) {
        this.ctx.checkpoint.putRows(s.srcName, s.srcUidValidity, rows.map((r) => ({ ...r, state: 'failed', reason: 'lost-at-destination', destUid: undefined })));
      }
    }
    this.notice(`${this.pair.dest.name}: ${lost.size} message(s) missing or damaged on disk; copying them again from the source`);
    await this.dst.expunge?.([...lost]);
  }

  /** Whether the journal of this folder pair can be trusted as it stands. */
  private sameGeneration(): boolean {
    const s = this.state;
    return !!s && s.srcUidValidity === this.uidValidity && s.destName === this.pair.dest.name && s.destUidValidity === this.dst.status.uidValidity;
  }

  private isFullPass(): boolean {
    const s = this.state;
    if (s && s.srcUidValidity !== this.uidValidity) {
      this.notice(`${this.pair.source.name}: source UIDVALIDITY changed; matching messages by content`);
    } else if (s && s.destName === this.pair.dest.name && s.destUidValidity !== this.dst.status.uidValidity) {
      this.notice(`${this.pair.dest.name}: destination UIDVALIDITY changed; matching messages by content`);
    }
    // srcUidNext stays 0 until a full pass completes, so a full pass cut short is resumed as one.
    return !this.sameGeneration() || s?.srcUidNext === 0;
  }

  /**
   * Every source message not yet settled in this generation, matched against every destination
   * message not yet claimed by a settled one.
   */
  private async planFull(): Promise<Plan> {
    const settled = new Set<number>();
    const claimed = new Set<number>();
    const known = new Map<number, string>();
    if (this.state && this.state.destName === this.pair.dest.name && this.state.destUidValidity === this.dst.status.uidValidity) {
      const sameSource = this.state.srcUidValidity === this.uidValidity;
      for (const r of this.ctx.checkpoint.rows(this.state.srcName, this.state.srcUidValidity)) {
        const destSha256 = r.destSha256 ?? r.sha256;
        if (r.destUid !== undefined && destSha256) known.set(r.destUid, destSha256);
        if (sameSource && (r.state === 'done' || (r.state === 'skipped' && !liftable(r, this.filter, this.state.search)))) {
          settled.add(r.srcUid);
          if (r.destUid !== undefined) claimed.add(r.destUid);
        }
      }
    }
    // Both scans at once, each on its own connection (and both answered before either error is
    // thrown: a handle is closed only between its commands).
    const scans = await Promise.allSettled([this.scanned ?? this.src.scan({}), this.dst.status.messages > 0 ? this.dst.scan({}) : []]);
    const [sourceMetas, destMetas] = scans.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    }) as [MessageMeta[], MessageMeta[]];
    const todo = sourceMetas.filter((m) => !settled.has(m.uid));
    return { todo, index: new ContentIndex(destMetas.filter((m) => !claimed.has(m.uid)), known), doneThrough: 0 };
  }


  /**
   * New UIDs, unsettled rows and flag changes since the last pass. Reads from the journal only
   * the open rows (an index answers them) and the rows of the UIDs the scans return, not every
   * row of the folder: 100 new messages in a 70,000-message folder read 100 rows, not 70,000.
   */
  private async planIncremental(): Promise<Plan> {
    const state = this.state as FolderState;
    const journal = this.ctx.checkpoint;
    const retry: number[] = [];
    let floor: number | undefined;
    for (const r of journal.rows(state.srcName, this.uidValidity, ['pending', 'failed', 'skipped'])) {
      if (r.state === 'pending') floor = Math.min(floor ?? Infinity, r.destFloor ?? 1);
      if (r.state === 'pending' || r.state === 'failed' || liftable(r, this.filter, state.search)) retry.push(r.srcUid);
    }
    const fresh = (await this.src.scan({ fromUid: state.doneThrough + 1 })).filter((m) => m.uid > state.doneThrough);
    const known = new Set(journal.rowsOf(state.srcName, this.uidValidity, fresh.map((m) => m.uid)).map((r) => r.srcUid));
    const retried = retry.length > 0 ? await this.src.scan({ uids: retry }) : [];
    const todo = [...retried, ...fresh.filter((m) => !known.has(m.uid))].sort((a, b) => a.uid - b.uid);

    if (this.ctx.options.syncFlags) await this.syncFlags(state);

    let index = new ContentIndex([], new Map());
    if (floor !== undefined) {
      // An APPEND whose answer never came may have landed: look above the UIDNEXT seen before it.
      const claimed = new Set<number>();
      for (const r of journal.rows(state.srcName, this.uidValidity, ['done'])) if (r.destUid !== undefined) claimed.add(r.destUid);
      const candidates = (await this.dst.scan({ fromUid: floor })).filter((m) => !claimed.has(m.uid));
      index = new ContentIndex(candidates, new Map());
    }
    return { todo, index, doneThrough: state.doneThrough };
  }

  private async syncFlags(state: FolderState): Promise<void> {
    const modseq = this.src.status.highestModseq;
    if (modseq !== undefined && modseq === state.srcModseq) return;
    const useModseq = this.ctx.source.caps.changedSince && state.srcModseq !== undefined;
    const metas = await this.src.scan(useModseq ? { changedSince: state.srcModseq } : {});
    const rows = new Map(this.ctx.checkpoint.rowsOf(state.srcName, this.uidValidity, metas.map((m) => m.uid)).map((r) => [r.srcUid, r]));
    const changes: Array<{ srcUid: number; flags: string[] }> = [];
    for (const m of metas) {
      const row = rows.get(m.uid);
      if (!row || row.state !== 'done' || sameFlags(row.flags, m.flags)) continue;
      if (row.destUid !== undefined) {
        await this.dst.setFlags(row.destUid, flagsForDest(m.flags, this.dst.permanentFlags));
        this.report.flagsUpdated++;
      }
      changes.push({ srcUid: m.uid, flags: m.flags });
    }
    if (changes.length > 0) this.ctx.checkpoint.putFlags(state.srcName, this.uidValidity, changes);
  }

  /**
   * Records filter skips (counted at the end, see countSkips); returns what is left to copy. A
   * message whose APPEND an earlier run began (a pending row) is finished whatever the filters
   * say now: it may be at the destination already, and only copying it settles that.
   */
  private async selectForCopy(todo: MessageMeta[]): Promise<MessageMeta[]> {
    const matches = todo.length > 0 ? await searchSource(this.src, this.filter) : undefined;
    const begun = new Set(this.state?.srcUidValidity === this.uidValidity ? this.ctx.checkpoint.rows(this.state.srcName, this.uidValidity, ['pending']).map((r) => r.srcUid) : []);
    const skipped: MessageRow[] = [];
    const copy: MessageMeta[] = [];
    for (const m of todo) {
      const reason = begun.has(m.uid) ? undefined : skipReason(m, this.filter, matches);
      if (reason) {
        skipped.push({ ...metaRow(m), state: 'skipped', reason });
        if (reason === 'too-large') this.oversized.push(m);
      } else copy.push(m);
    }
    if (skipped.length > 0) this.ctx.checkpoint.putRows(this.pair.source.name, this.uidValidity, skipped);
    return copy;
  }

  /**
   * Copies `copy` as contiguous UID ranges in parallel. A folder big enough for several ranges
   * (see `rangesFor`) queues the ranges after the first as tasks of the run, ahead of the folders
   * not yet started, each on connections of its own. This worker copies the first range and then
   * takes over, on its own connections, every range no free slot has started yet, so a range
   * never waits for a slot while its folder's worker sits idle.
   */
  private async copyRanges(copy: MessageMeta[], index: ContentIndex, saved: FolderState): Promise<void> {
    const lanes = this.ctx.lanes;
    const [first = [], ...rest] = splitContiguous(copy, lanes ? this.rangesFor(copy.length, lanes) : 1, (m) => m.size + PER_MESSAGE_BYTES);
    const extra = rest.map((part) => new RangeClaim(part));
    const own: Handles = { src: this.src, dst: this.dst };
    for (const r of extra) lanes?.spawn(() => r.run(() => this.withOwnHandles((h) => this.copyRange(r.part, h, index, undefined))) ?? Promise.resolve());
    let failure: { error: unknown } | undefined;
    try {
      await this.copyRange(first, own, index, saved);
      for (const r of extra) {
        if (this.ctx.signal?.aborted) throw new InterruptedError();
        await r.run(() => this.copyRange(r.part, own, index, undefined));
      }
    } catch (err) {
      failure = { error: err };
      // Ranges not started yet never start; the ones under way are waited for, so a retry of
      // the folder never runs beside an APPEND of the attempt that failed.
      for (const r of extra) r.cancel();
    }
    const outcomes = await Promise.allSettled(extra.map((r) => r.done));
    if (failure) throw failure.error;
    for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
  }

  /**
   * How many ranges: at most one per slot, each at least `minMessagesPerRange` messages and a
   * slot's share of the whole run. A folder is split only when it would otherwise be the run's
   * long pole: ranges of one folder append to one destination folder at once, which costs the
   * server more than separate folders do. Splitting every 2,500-message folder of 50k text in four
   * took Dovecot 11.3-12.4 CPU-s instead of 9.6-10.5 (0 ms, 3 runs each).
   */
  private rangesFor(messages: number, lanes: Lanes): number {
    return Math.max(1, Math.min(lanes.total, Math.floor(messages / Math.max(1, this.ctx.options.minMessagesPerRange, lanes.share))));
  }

  /**
   * Copies one contiguous UID range in batches, fetching the next batch while the current one is
   * written. Only the lowest range (the one given `saved`) advances `doneThrough`, which must
   * never pass an unsettled UID; the others' rows are found settled on a rerun anyway.
   */
  private async copyRange(part: MessageMeta[], h: Handles, index: ContentIndex, saved: FolderState | undefined): Promise<void> {
    const chunks = batches(part, this.ctx.options.batchMessages, this.ctx.options.batchBytes, (m) => this.streams(m, h, index));
    const held: number[] = [];
    // A stream's source side, until its last piece is answered: nothing else goes on its connection meanwhile.
    let streaming: Promise<void> = Promise.resolve();
    let unconsumed: OpenStream | undefined;
    try {
      for await (const fetched of prefetched(chunks, async (chunk): Promise<Loaded> => {
        await streaming;
        const streamed = chunk.length === 1 && this.streams(chunk[0]!, h, index) ? await this.openStream(h.src, chunk[0]!, held) : undefined;
        if (streamed) {
          streaming = streamed.stream.sourceDone;
          unconsumed = streamed.stream;
          return streamed;
        }
        const bytes = chunk.reduce((a, m) => a + m.size, 0);
        await this.ctx.gate?.wait(this.ctx.signal);
        await this.ctx.memory?.take(bytes, this.ctx.signal);
        held.push(bytes);
        await this.ctx.traffic?.beforeFetch(chunk.length, bytes, this.ctx.signal);
        const began = performance.now();
        const fetched = await this.fetch(h.src, chunk);
        this.ctx.memory?.fetched(bytes, performance.now() - began);
        this.ctx.traffic?.afterFetch(fetched.items.reduce((a, m) => a + (m.local ? 0 : m.raw.length), 0));
        // Hashed here, while the destination still works on the batch before: not in the gap
        // between its APPENDs.
        return { ...hashBatch(fetched.items), requested: fetched.requested };
      })) {
        if (this.ctx.signal?.aborted) throw new InterruptedError();
        this.ctx.errors?.check();
        const finish = (): void => {
          if (!saved) return;
          saved.doneThrough = Math.max(saved.doneThrough, fetched.requested[fetched.requested.length - 1] ?? 0);
          this.ctx.checkpoint.saveFolder(saved);
        };
        if ('stream' in fetched) {
          unconsumed = undefined;
          await this.transferStreamed(h.dst, fetched.stream, finish);
        } else await this.transferBatch(h.dst, fetched, index, finish);
        this.ctx.memory?.give(held.shift() ?? 0);
      }
    } finally {
      // A stream begun but never sent stops asking for its pieces.
      await unconsumed?.rest.return?.();
      // A batch fetched ahead but never written (error, abort) still gives its bytes back.
      for (const bytes of held.splice(0)) this.ctx.memory?.give(bytes);
    }
  }

  /**
   * Whether a message is passed from the source to the destination as it arrives instead of held
   * whole (`transferStreamed`): a big one, where both sides can, and where nothing at the
   * destination may already be it (a claim by content needs its bytes before the APPEND).
   */
  private streams(m: MessageMeta, h: Handles, index: ContentIndex): boolean {
    if (m.size < STREAM_MIN_BYTES || index.size > 0 || !h.src.fetchStream || !h.dst.appendStream) return false;
    // Labels are set after a buffered APPEND only.
    return !(this.ctx.dest.caps.labels && m.labels?.length);
  }

  /**
   * Starts a message's stream and reads its first chunk, holding up to `STREAM_HOLD_BYTES` of the
   * byte window for it (noted in `held`); undefined where the message cannot be streamed, which
   * is then fetched whole (nothing was sent yet).
   */
  private async openStream(src: FolderHandle, meta: MessageMeta, held: number[]): Promise<StreamLoaded | undefined> {
    await this.ctx.gate?.wait(this.ctx.signal);
    const hold = Math.min(meta.size, STREAM_HOLD_BYTES);
    await this.ctx.memory?.take(hold, this.ctx.signal);
    held.push(hold);
    await this.ctx.traffic?.beforeFetch(1, meta.size, this.ctx.signal);
    let ended!: () => void;
    const sourceDone = new Promise<void>((resolve) => (ended = resolve));
    const rest = (async function* () {
      try {
        yield* src.fetchStream!(meta.uid, meta.size);
      } finally {
        ended();
      }
    })();
    try {
      const first = await rest.next();
      if (!first.done) return { stream: { meta, first: first.value, rest, sourceDone }, requested: [meta.uid] };
    } catch (err) {
      if (!(err instanceof StreamUnavailableError)) throw err;
      this.notice(`${this.pair.source.name}: UID ${meta.uid} is fetched whole: ${err.message}`);
    }
    this.ctx.memory?.give(held.pop() ?? 0);
    return undefined;
  }

  /**
   * Copies one message while it arrives: its APPEND starts with its first chunk, and its intent
   * is journaled, with its identity, before its last chunk is sent (journaled-body.ts). Settled
   * as `transferBatch` settles a batch of one.
   */
  private async transferStreamed(dst: FolderHandle, s: OpenStream, finish: () => void): Promise<void> {
    const { meta } = s;
    const folder = this.pair.source.name;
    const pending = { ...metaRow(meta), state: 'pending' as const, destFloor: this.destFloor, intentAt: Date.now() };
    let sha256: string | undefined;
    // Read as the bytes pass only where the destination may alter what it stores.
    const shape = this.ctx.dest.caps.altersOnAppend ? new MessageShape() : undefined;
    this.ctx.traffic?.beforeAppend(meta.size);
    const body = journaledBody(s.first, s.rest, meta.size, (hash) => {
      sha256 = hash;
      this.ctx.checkpoint.putRows(folder, this.uidValidity, [{ ...pending, sha256 }]);
    }, shape);
    const outcome = await dst.appendStream!({ size: meta.size, flags: flagsForDest(meta.flags, dst.permanentFlags), internalDate: meta.internalDate, body });
    this.ctx.traffic?.afterFetch(meta.size);
    // An answer comes only once the whole literal went out, so the intent is in the journal.
    if (sha256 === undefined) throw new Error(`the APPEND of UID ${meta.uid} was answered before its last byte was sent`);
    const uid = outcome.ok ? outcome.uid : undefined;
    const stored = uid !== undefined && shape ? await storedDifferences(dst, [{ uid, sha256, shape }], this.ctx.storedCopies) : new Map<number, StoredDifference>();
    const failures: MessageFailure[] = [];
    const result = this.outcomeRow({ ...pending, sha256 }, outcome, stored, failures, () => this.oversized.push(meta));
    this.ctx.traffic?.afterAppend(meta.size);
    this.ctx.checkpoint.batch(() => {
      this.ctx.checkpoint.putRows(folder, this.uidValidity, [result]);
      this.ctx.traffic?.flush();
      finish();
    });
    this.progress(1, meta.size);
    if (failures.length > 0) this.ctx.errors?.add(folder, failures);
  }

  /** A second pair of connections on the same two folders, for a parallel range. */
  private async withOwnHandles(fn: (h: Handles) => Promise<void>): Promise<void> {
    const h = await openBoth(this.ctx, this.pair);
    try {
      await fn(h);
    } finally {
      await Promise.all([h.dst.close(), h.src.close()]);
    }
  }

  private async fetch(src: FolderHandle, chunk: MessageMeta[]): Promise<{ items: MessageData[]; requested: number[] }> {
    const items: MessageData[] = [];
    const requested = chunk.map((m) => m.uid);
    for await (const m of src.fetch(requested)) items.push(m);
    return { items, requested };
  }

  /**
   * Settles one fetched batch. Journal writes are grouped: what was found at the destination and
   * the APPEND intents in one transaction before the APPEND, the outcomes plus `finish` (folder
   * progress) in one after it.
   */
  private async transferBatch(dst: FolderHandle, batch: HashedBatch & { requested: number[] }, index: ContentIndex, finish: () => void): Promise<void> {
    const { hashed, damaged, requested } = batch;
    const items = hashed.map((h) => h.meta);
    const vanished = requested.length - items.length - damaged.length;
    if (vanished > 0) this.countVanished(vanished);
    if (damaged.length > 0) this.refuseDamaged(damaged);
    const claimed = index.size > 0 ? await index.claim(dst, hashed.map((h) => ({ raw: h.meta.raw, sha256: h.sha256 }))) : [];

    const settled: MessageRow[] = [];
    const toAppend: typeof hashed = [];
    const keepsLabels = this.ctx.dest.caps.labels === true;
    for (const [i, h] of hashed.entries()) {
      const found = claimed[i];
      if (found !== undefined) {
        const destUid = found.uid;
        // Found already there, perhaps by an APPEND whose labels were never set: set them now.
        if (keepsLabels && h.meta.labels?.length) await dst.setLabels?.(destUid, h.meta.labels);
        const altered = found.sha256 !== h.sha256;
        if (altered) this.report.alteredByServer.push({ uid: h.meta.uid, size: h.meta.raw.length, destUid, destSize: index.sizeOf(destUid) ?? h.meta.raw.length });
        settled.push({ ...metaRow(h.meta), sha256: h.sha256, state: 'done', destUid, ...(altered ? { destSha256: found.sha256 } : {}) });
        this.report.present++;
      } else toAppend.push(h);
    }
    const folder = this.pair.source.name;
    if (toAppend.length === 0) {
      this.ctx.checkpoint.batch(() => {
        this.ctx.checkpoint.putRows(folder, this.uidValidity, settled);
        this.ctx.traffic?.flush();
        finish();
      });
      this.progress(items.length + vanished, sizeOf(items));
      return;
    }

    const appendBytes = toAppend.reduce((a, h) => a + h.meta.raw.length, 0);
    this.ctx.traffic?.beforeAppend(appendBytes);
    // Intent before effect: once these rows are committed, a crash during the APPEND is
    // settled on resume by looking for the message above destFloor.
    const intentAt = Date.now();
    const pending = toAppend.map((h) => ({ ...metaRow(h.meta), sha256: h.sha256, state: 'pending' as const, destFloor: this.destFloor, intentAt }));
    this.ctx.checkpoint.batch(() => {
      this.ctx.checkpoint.putRows(folder, this.uidValidity, settled);
      this.ctx.checkpoint.putRows(folder, this.uidValidity, pending);
    });
    // Those found already there are settled now, before the APPEND of the others.
    this.progress(hashed.length - toAppend.length + vanished, sizeOf(hashed.map((h) => h.meta)) - sizeOf(toAppend.map((h) => h.meta)));

    // Each message counts as soon as its answer is in; a store that answers the batch as a whole
    // has them all counted when it returns. If the APPEND throws, the answered ones are uncounted
    // again: they stay pending, and the retry settles (and counts) them.
    const unanswered = new Set(toAppend.keys());
    let outcomes: AppendOutcome[];
    try {
      outcomes = await dst.append(
        toAppend.map((h) => ({
          raw: h.meta.raw,
          flags: flagsForDest(h.meta.flags, dst.permanentFlags),
          internalDate: h.meta.internalDate,
          ...(keepsLabels && h.meta.labels?.length ? { labels: h.meta.labels } : {}),
        })),
        (i) => {
          if (unanswered.delete(i)) this.progress(1, toAppend[i]!.meta.size);
        },
      );
    } catch (err) {
      const answered = [...toAppend.keys()].filter((i) => !unanswered.has(i));
      this.progress(-answered.length, -sizeOf(answered.map((i) => toAppend[i]!.meta)));
      throw err;
    }
    const stored = this.ctx.dest.caps.altersOnAppend
      ? await storedDifferences(dst, toAppend.flatMap((h, i) => {
          const o = outcomes[i];
          // Only a copy whose new UID is known can be looked at.
          return o?.ok && o.uid !== undefined ? [{ uid: o.uid, sha256: h.sha256, shape: new MessageShape().update(h.meta.raw) }] : [];
        }), this.ctx.storedCopies)
      : new Map<number, StoredDifference>();
    const refused: MessageData[] = [];
    const failures: MessageFailure[] = [];
    const results = pending.map((row, i) => this.outcomeRow(row, outcomes[i], stored, failures, () => refused.push(toAppend[i]!.meta)));
    this.ctx.traffic?.afterAppend(appendBytes);
    this.ctx.checkpoint.batch(() => {
      this.ctx.checkpoint.putRows(folder, this.uidValidity, results);
      this.ctx.traffic?.flush();
      finish();
    });
    for (const m of refused) await this.keepOversized(m);
    this.progress(unanswered.size, sizeOf([...unanswered].map((i) => toAppend[i]!.meta)));
    if (failures.length > 0) this.ctx.errors?.add(folder, failures);
  }

  /**
   * The journal row an APPEND's outcome makes of a message's pending row, counted in the report.
   * A refusal for its size is a skip (`tooLarge` keeps the message); another refusal is a failure.
   */
  private outcomeRow(row: MessageRow, o: AppendOutcome | undefined, stored: Map<number, StoredDifference>, failures: MessageFailure[], tooLarge: () => void): MessageRow {
    if (o?.ok) {
      this.report.copied++;
      this.report.bytes += row.size;
      if (o.uid === undefined) return { ...row, state: 'done' };
      this.destFloor = Math.max(this.destFloor, o.uid + 1);
      const altered = stored.get(o.uid);
      if (!altered) return { ...row, state: 'done', destUid: o.uid };
      this.report.alteredByServer.push({ uid: row.srcUid, size: row.size, destUid: o.uid, destSize: altered.size });
      return { ...row, state: 'done', destUid: o.uid, destSha256: altered.sha256 };
    }
    const reason = o ? o.reason : 'unknown';
    if (reason === 'too-large') {
      // Left out, not failed: the destination will never take it, and it is listed and kept.
      tooLarge();
      return { ...row, state: 'skipped', reason };
    }
    this.report.failed++;
    const failure = { uid: row.srcUid, reason, message: o ? o.message : 'no outcome' };
    failures.push(failure);
    this.report.failures.push(failure);
    return { ...row, state: 'failed', reason };
  }

  /** Lists (and with a sink, saves) a message the destination cannot take for its size. */
  private async keepOversized(m: MessageData): Promise<void> {
    const savedTo = this.ctx.oversize ? await this.ctx.oversize.save(this.pair.source.components, this.uidValidity, m) : undefined;
    this.report.oversize.push({ uid: m.uid, size: m.raw.length, ...(savedTo ? { savedTo } : {}) });
  }

  private async saveOversized(): Promise<void> {
    if (this.oversized.length === 0) return;
    if (!this.ctx.oversize) {
      for (const m of this.oversized) this.report.oversize.push({ uid: m.uid, size: m.size });
      return;
    }
    for (const chunk of batches(this.oversized, 50, this.ctx.options.batchBytes)) {
      const fetched = await this.fetch(this.src, chunk);
      for (const m of fetched.items) await this.keepOversized(m);
    }
  }

  /**
   * Skips as the journal holds them once the folder is through: each message once, however many
   * attempts it took, and also those an earlier run left out that the current filters still
   * leave out. Messages that vanished meanwhile are no rows, so their count is kept.
   */
  private countSkips(): void {
    const expunged = this.report.skipped['source-expunged'];
    // Every search skip of the folder was judged by this run's criteria by now.
    this.report.skipped = stillSkipped(this.ctx.checkpoint.rows(this.pair.source.name, this.uidValidity, ['skipped']), this.filter, this.filter.search);
    if (expunged) this.report.skipped['source-expunged'] = expunged;
  }

  /** Source copies that do not read back as written: listed as failed, never passed on. */
  private refuseDamaged(messages: MessageData[]): void {
    for (const m of messages) {
      this.report.failed++;
      this.report.failures.push({ uid: m.uid, reason: 'damaged-source', message: m.damaged! });
    }
    this.ctx.checkpoint.putRows(
      this.pair.source.name,
      this.uidValidity,
      messages.map((m) => ({ ...metaRow(m), state: 'failed', reason: 'damaged-source' })),
    );
    this.progress(messages.length, 0);
  }

  private countVanished(n: number): void {
    // Expunged between scan and fetch: not an error, the next run no longer sees them.
    this.report.skipped['source-expunged'] = (this.report.skipped['source-expunged'] ?? 0) + n;
  }

  private progress(messages: number, bytes: number): void {
    if (messages === 0) return;
    this.ctx.emit({ type: 'progress', source: this.pair.source.name, messages, bytes });
  }

  private notice(message: string): void {
    this.ctx.emit({ type: 'notice', message });
  }
}

/** How long an unanswered APPEND is given to land before a rerun looks for it. */
const SETTLE_MS = 5_000;

/** A folder this small (by its listing) is scanned with its messages on its first copy. */
const SMALL_FOLDER_BYTES = 1 << 20;

interface Handles {
  src: FolderHandle;
  dst: FolderHandle;
}

/**
 * What one message costs beyond its bytes, counted in bytes, when a folder is cut into ranges of
 * similar cost: parsing, hashing and journaling a message take about as long as moving 64 KB.
 */
const PER_MESSAGE_BYTES = 64 * 1024;

/** Splits into at most `n` contiguous, non-empty parts of near-equal total `weight` (default: one per item). */
function splitContiguous<T>(items: T[], n: number, weight: (item: T) => number = () => 1): T[][] {
  const parts: T[][] = [];
  const total = items.reduce((a, item) => a + weight(item), 0);
  const count = Math.max(1, Math.min(n, items.length));
  let current: T[] = [];
  let sum = 0;
  for (const [i, item] of items.entries()) {
    current.push(item);
    sum += weight(item);
    const left = items.length - i - 1;
    const partsLeft = count - parts.length - 1;
    // Close this part once it reaches its share, while every later part can still get an item.
    if (partsLeft > 0 && (sum >= (total * (parts.length + 1)) / count || left === partsLeft)) {
      parts.push(current);
      current = [];
    }
  }
  if (current.length > 0 || parts.length === 0) parts.push(current);
  return parts;
}

/**
 * One extra UID range of a folder: run by whoever claims it first, the queued task on connections
 * of its own or the folder's worker on its own; `done` settles when it has run (or never ran).
 */
class RangeClaim {
  private claimed = false;
  done: Promise<void> = Promise.resolve();

  constructor(readonly part: MessageMeta[]) {}

  /** Runs `copy` unless the range was claimed already; returns what it started, if anything. */
  run(copy: () => Promise<void>): Promise<void> | undefined {
    if (this.claimed) return undefined;
    this.claimed = true;
    this.done = copy();
    return this.done;
  }

  cancel(): void {
    this.claimed = true;
  }
}

/** A message at least this big is streamed where both sides can (`FolderRun.streams`). */
const STREAM_MIN_BYTES = 4 << 20;

/** The byte window a streamed message holds: the pieces its source has on the wire and the one being sent. */
const STREAM_HOLD_BYTES = 6 << 20;

/** A message whose stream has begun: its first chunk, read, and the rest still to come. */
interface OpenStream {
  meta: MessageMeta;
  first: Buffer;
  rest: AsyncIterator<Buffer>;
  /** Resolves once the source has answered for every piece it was asked (all read, or the rest left). */
  sourceDone: Promise<void>;
}

/** What a batch's load gives the copy: a fetched batch, or a message to stream. */
type Loaded = (HashedBatch & { requested: number[] }) | StreamLoaded;
type StreamLoaded = { stream: OpenStream; requested: number[] };

/** A fetched batch: each readable message with its identity, and those that did not read back whole. */
interface HashedBatch {
  hashed: Array<{ meta: MessageData; sha256: string }>;
  damaged: MessageData[];
}

function hashBatch(items: MessageData[]): HashedBatch {
  const out: HashedBatch = { hashed: [], damaged: [] };
  for (const m of items) {
    if (m.damaged !== undefined) out.damaged.push(m);
    else out.hashed.push({ meta: m, sha256: sha256(m.raw) });
  }
  return out;
}

interface Plan {
  todo: MessageMeta[];
  index: ContentIndex;
  doneThrough: number;
}

function sizeOf(messages: MessageMeta[]): number {
  return messages.reduce((a, m) => a + m.size, 0);
}

function metaRow(m: MessageMeta): Omit<MessageRow, 'state'> {
  return { srcUid: m.uid, size: m.size, internalDate: m.internalDate.getTime(), flags: m.flags };
}

import type { MessageMeta } from '../domain/types.js';

/** The user's message filters (`--since`, `--before`, `--max-size`, `--min-size`) plus the destination's limit. */
export interface MessageFilter {
  since?: Date;
  before?: Date;
  maxSize?: number;
  minSize?: number;
  /**
   * Only messages the source store finds with these criteria (`--search`, in the store's own
   * language: IMAP SEARCH); opaque to the engine, which compares it only for equality.
   */
  search?: string;
  /** The destination's own largest message (APPENDLIMIT). */
  destMaxSize?: number;
}

/**
 * Why a message is left out, or undefined when it is to be copied. Reasons are report keys.
 * `matches` is what the source found for `filter.search`; without it the search is not judged.
 */
export function skipReason(meta: Pick<MessageMeta, 'uid' | 'size' | 'internalDate'>, filter: MessageFilter, matches?: ReadonlySet<number>): string | undefined {
  if (filter.since && meta.internalDate < filter.since) return 'before-since';
  if (filter.before && meta.internalDate >= filter.before) return 'not-before';
  if (filter.maxSize !== undefined && meta.size > filter.maxSize) return 'over-max-size';
  if (filter.minSize !== undefined && meta.size < filter.minSize) return 'under-min-size';
  if (filter.search !== undefined && matches && !matches.has(meta.uid)) return SEARCH_REASON;
  if (filter.destMaxSize !== undefined && meta.size > filter.destMaxSize) return 'too-large';
  return undefined;
}

/** No filter can leave a message out: no date, size or search filter, and no size limit at the destination. */
export function takesEveryMessage(f: MessageFilter): boolean {
  return f.since === undefined && f.before === undefined && f.maxSize === undefined && f.minSize === undefined && f.search === undefined && f.destMaxSize === undefined;
}

/** Reasons a later run with other filters may lift, so those rows are reconsidered each run. */
export const FILTER_REASONS: ReadonlySet<string> = new Set(['before-since', 'not-before', 'over-max-size', 'under-min-size', 'too-large']);

/** Left out by `--search`: lifted when the criteria change (see skipped-rows.ts). */
export const SEARCH_REASON = 'not-matching-search';

// The benchmark's corpora, all derived from corpus.ts by seed, so every run measures the same bytes.
import { corpusFolders, generateCorpus, type CorpusMessage, type CorpusOptions } from '../src/sandbox/corpus.js';

export interface BenchCorpus {
  /** label in tables and JSON */
  name: string;
  /** the Dovecot user that holds it */
  user: string;
  /** what corpus.ts is asked for (recorded in the results, so a run can be replayed) */
  options: CorpusOptions;
  /** folder paths, parents first */
  folders: string[];
  /**
   * How many of `options.bigMessages`, from the first, are dealt round-robin over the folders.
   * corpus.ts puts them all in INBOX; spread, no single folder holds most of the bytes, and
   * folder-parallel tools are measured on a realistic mailbox.
   */
  spreadBig?: number;
  /** a subset holds the messages of `options` whose index passes `pick`, described by `selection` */
  subset?: { selection: string; pick: (index: number) => boolean };
}

/** Attachment-bearing messages on top of the log-normal body of the main corpus. */
const ATTACHMENTS = 180;
const BIG = [20e6, 20e6, 20e6];
const MAIN_MESSAGES = 5000;

/**
 * ~5,000 messages / ~350 MB in 20 folders, as issue #5 asks: corpus.ts's log-normal sizes (median
 * ~6 KB) give the bulk, plus 180 attachments of 100 KB–5 MB over all folders and three 20 MB
 * messages in INBOX. With the ~75 log-normal messages over 100 KB, a few hundred over 100 KB.
 */
export const MAIN: BenchCorpus = {
  ...corpus('5k', 'src', {
    seed: 5000,
    messages: MAIN_MESSAGES - ATTACHMENTS - BIG.length,
    folders: 20,
    maxSize: 5_000_000,
    bigMessages: [...attachmentSizes(ATTACHMENTS), ...BIG],
  }),
  spreadBig: ATTACHMENTS,
};

/** Every fifth message of MAIN (one of the 20 MB ones included): the latency runs and OfflineIMAP. */
export const SUBSET: BenchCorpus = { ...MAIN, name: '1k subset', user: 'subset', subset: { selection: 'messages of 5k with index % 5 == 2', pick: (i) => i % 5 === 2 } };

/**
 * 1,000 plain-text messages in 20 folders (the first 1,000 of what was the 50k text corpus: each
 * message depends on the seed and its index only): what compression does on a capped link.
 */
export const TEXT_1K: BenchCorpus = corpus('1k text', 'text1k', { seed: 50_000, messages: 1000, folders: 20, maxSize: 1_000_000, textHeavy: true });

/**
 * BENCH_LARGE_MESSAGES: a smaller large account, ONLY to smoke-test the BENCH_LARGE code path
 * (its figures mean nothing against the targets, which are for 200,000).
 */
const LARGE_MESSAGES = Number(process.env.BENCH_LARGE_MESSAGES ?? 200_000);
if (!Number.isInteger(LARGE_MESSAGES) || LARGE_MESSAGES < 1000) throw new Error(`BENCH_LARGE_MESSAGES must be an integer of at least 1000, not ${process.env.BENCH_LARGE_MESSAGES}`);

/** The large account (BENCH_LARGE=1): 200,000 plain-text messages in 100 folders. */
export const LARGE: BenchCorpus = corpus(LARGE_MESSAGES === 200_000 ? '200k text' : `${LARGE_MESSAGES} text (smoke size)`, 'large', {
  seed: 200_000, messages: LARGE_MESSAGES, folders: 100, maxSize: 1_000_000, textHeavy: true,
});
/** The first 5,000 of LARGE: the like-for-like baseline for its throughput and memory. */
export const LARGE_BASE: BenchCorpus = { ...LARGE, name: '5k text', user: 'largebase', subset: { selection: `the first 5,000 messages of ${LARGE.name}`, pick: (i) => i < 5000 } };

/** The messages of a corpus's `options`, in order, with `spreadBig` applied. */
export function* messagesOf(c: BenchCorpus): Generator<CorpusMessage> {
  let index = 0;
  for (const message of generateCorpus(c.options)) {
    const big = index - c.options.messages; // corpus.ts yields bigMessages after the others
    yield big >= 0 && big < (c.spreadBig ?? 0) ? { ...message, folder: c.folders[big % c.folders.length]! } : message;
    index++;
  }
}

function corpus(name: string, user: string, options: CorpusOptions): BenchCorpus {
  return { name, user, options, folders: corpusFolders(options).map((f) => f.path) };
}

/**
 * Sizes spread log-uniformly over 100 KB–5 MB (mean ~1.25 MB) by the golden-ratio sequence:
 * deterministic without a random generator, and evenly covering the range for any count.
 */
function attachmentSizes(count: number): number[] {
  const phi = (Math.sqrt(5) - 1) / 2;
  return Array.from({ length: count }, (_, k) => Math.round(100_000 * 50 ** (((k + 1) * phi) % 1)));
}

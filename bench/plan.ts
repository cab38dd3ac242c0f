// What `npm run bench` measures: every tool on the corpora and links issues #5 and #17 name.
import { LARGE, LARGE_BASE, MAIN, SUBSET, TEXT_1K, type BenchCorpus } from './corpora.js';
import type { Tool } from './tool.js';
import { doveadmBackup } from './tools/doveadm-backup.js';
import { mailferryBackup, mailferryMigrate } from './tools/mailferry.js';
import { mbsync } from './tools/mbsync.js';
import { offlineimap } from './tools/offlineimap.js';

/** How the tools reach Dovecot. */
export interface Link {
  /** round trip added by the delay proxy; 0: straight to Dovecot */
  rttMs: number;
  /** implicit TLS (imaps) with the harness's CA */
  tls: boolean;
  /** bytes per second each way, all connections together (the delay proxy's cap) */
  rate?: number;
  /** the server offers COMPRESS=DEFLATE (a second Dovecot, with imap_zlib) */
  compress?: boolean;
}

export interface Case {
  tool: Tool;
  corpus: BenchCorpus;
  link: Link;
  /** at most this many repetitions, whatever BENCH_RUNS says (OfflineIMAP: minutes per run) */
  maxRuns?: number;
  /** after the no-change rerun, NEW_MESSAGES arrive in the source and the tool runs once more */
  update?: boolean;
}

/** The latency of issue #5's delay-proxy rows: a distant server. */
export const RTT_MS = 40;
/** Issue #17's far server: an account moved across an ocean. */
export const FAR_RTT_MS = 100;
/** Issue #17's small office uplink, each way. */
export const CAP_RATE = 4_000_000;

export const PLAIN: Link = { rttMs: 0, tls: false };
export const PLAIN_40: Link = { rttMs: RTT_MS, tls: false };
export const TLS: Link = { rttMs: 0, tls: true };
export const TLS_40: Link = { rttMs: RTT_MS, tls: true };
export const TLS_100: Link = { rttMs: FAR_RTT_MS, tls: true };
export const CAPPED: Link = { rttMs: RTT_MS, tls: true, rate: CAP_RATE, compress: true };

/** mailferry's default, used wherever the issues name no connection count. */
const DEFAULT_CONNECTIONS = 4;

const MIGRATE_CONNECTIONS = [1, 4];
export const migrate = MIGRATE_CONNECTIONS.map((n) => mailferryMigrate(n));
export const [migrate1, migrateDefault] = migrate as [Tool, Tool];
export const backupMaildir = mailferryBackup('maildir', DEFAULT_CONNECTIONS);
const backupMbox = mailferryBackup('mbox', DEFAULT_CONNECTIONS);

/** The tools compared wherever the issues compare mailferry with the anchors. */
const COMPARED = [migrateDefault, backupMaildir, mbsync, doveadmBackup];
const on = (corpus: BenchCorpus, link: Link, tools: Tool[]): Case[] => tools.map((tool) => ({ tool, corpus, link }));
/** OfflineIMAP is ~15x slower per message than the others: one repetition, where it is run at all. */
const once = (corpus: BenchCorpus, link: Link): Case => ({ tool: offlineimap, corpus, link, maxRuns: 1 });

/**
 * BENCH_LARGE=1: the 200,000-message account (and the first 5,000 of it, the like-for-like
 * baseline of its throughput and memory). Minutes per run, so never by default.
 */
const LARGE_RUN = process.env.BENCH_LARGE === '1';

const PLANNED: Case[] = [
  // Issue #5's rows over plaintext: the reference of every TLS row's ratio.
  ...on(MAIN, PLAIN, [migrate1, ...COMPARED, backupMbox]),
  ...on(SUBSET, PLAIN_40, COMPARED),
  // The same over TLS, as every provider speaks it.
  ...on(MAIN, TLS, [migrate1, ...COMPARED]),
  ...on(SUBSET, TLS_40, COMPARED),
  // A server across an ocean.
  ...on(SUBSET, TLS_100, COMPARED),
  once(SUBSET, TLS_100),
  // A capped uplink shared by all connections, with COMPRESS=DEFLATE offered.
  ...on(SUBSET, CAPPED, COMPARED),
  ...on(TEXT_1K, CAPPED, COMPARED),
  once(TEXT_1K, CAPPED),
  ...(LARGE_RUN
    ? [...on(LARGE_BASE, TLS, [migrateDefault, backupMaildir]), ...on(LARGE, TLS, [migrateDefault, backupMaildir]).map((c) => ({ ...c, update: true }))]
    : []),
];

/**
 * BENCH_BASELINE=<path to another build's dist/bin/main.js>: every migrate case runs that build too,
 * right after this tree's, as `baseline: mailferry migrate, N conn`: an A/B comparison
 * interleaved run by run on the same machine state. No target is computed from those rows.
 */
const BASELINE = process.env.BENCH_BASELINE;

export const CASES: Case[] = PLANNED.flatMap((c) => {
  const connections = MIGRATE_CONNECTIONS[migrate.indexOf(c.tool)];
  if (!BASELINE || connections === undefined) return [c];
  return [c, { ...c, tool: mailferryMigrate(connections, { main: BASELINE, label: 'baseline' }) }];
});

/** e.g. "40 ms TLS, 4 MB/s": the link part of labels and tables. */
export const linkLabel = (l: Link): string => `${l.rttMs} ms${l.tls ? ' TLS' : ''}${l.rate === undefined ? '' : `, ${l.rate / 1e6} MB/s`}`;
export const caseLabel = (c: Case): string => `${c.tool.name} @ ${linkLabel(c.link)} on ${c.corpus.name}`;

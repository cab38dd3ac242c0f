// What `npm run bench` measures: every tool on the corpus and latency issue #5 names.
import { MAIN, SCALE, SCALE_BASE, SUBSET, type BenchCorpus } from './corpora.js';
import type { Tool } from './tool.js';
import { doveadmBackup } from './tools/doveadm-backup.js';
import { mailferryBackup, mailferryMigrate } from './tools/mailferry.js';
import { mbsync } from './tools/mbsync.js';
import { offlineimap } from './tools/offlineimap.js';

export interface Case {
  tool: Tool;
  corpus: BenchCorpus;
  rttMs: number;
}

/** The latency of the delay-proxy rows: a distant server (performance.md's 40 ms). */
export const RTT_MS = 40;
/** mailferry's default, used wherever the issue names no connection count. */
const DEFAULT_CONNECTIONS = 4;

const MIGRATE_CONNECTIONS = [1, 4, 8];
export const migrate = MIGRATE_CONNECTIONS.map((n) => mailferryMigrate(n));
export const [, migrateDefault, migrate8] = migrate as [Tool, Tool, Tool];
export const backupMaildir = mailferryBackup('maildir', DEFAULT_CONNECTIONS);
const backupMbox = mailferryBackup('mbox', DEFAULT_CONNECTIONS);

const PLANNED: Case[] = [
  // Full corpus on loopback.
  ...[...migrate, backupMaildir, backupMbox, mbsync, doveadmBackup].map((tool) => ({ tool, corpus: MAIN, rttMs: 0 })),
  // OfflineIMAP takes ~10x longer than the others, so it gets the subset only (as in performance.md).
  { tool: offlineimap, corpus: SUBSET, rttMs: 0 },
  // Everything again through the delay proxy, on the subset.
  ...[migrateDefault, migrate8, backupMaildir, backupMbox, mbsync, doveadmBackup, offlineimap].map((tool) => ({ tool, corpus: SUBSET, rttMs: RTT_MS })),
  // The scaling point, against the first 5,000 messages of the same text-heavy corpus.
  { tool: migrateDefault, corpus: SCALE_BASE, rttMs: 0 },
  { tool: migrateDefault, corpus: SCALE, rttMs: 0 },
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

export const caseLabel = (c: Case): string => `${c.tool.name} @ ${c.rttMs} ms on ${c.corpus.name}`;

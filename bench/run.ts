/**
 * `npm run bench`: loads a deterministic ~5,000-message corpus into a private Dovecot and times
 * mailferry's migrations between accounts (1 and 4 connections, and a no-change rerun). Prints a
 * Markdown table and writes JSON to bench/results/. Never part of `npm test`.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDovecot } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus, type CorpusOptions } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { measure, median, type Measurement } from './measure.js';

const PASSWORD = 'bench-password';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const CORPUS: CorpusOptions = { seed: 5000, messages: 5000, folders: 20, maxSize: 5_000_000, bigMessages: [20e6, 20e6, 20e6] };

interface Row {
  tool: string;
  phase: string;
  runs: number;
  wall: number[];
  messages: number;
  bytes: number;
  peakRssMb: number;
  cpuSeconds: number;
}

async function main(): Promise<void> {
  const connectionCounts = [1, 4];
  const users = ['src', ...connectionCounts.flatMap((c) => Array.from({ length: RUNS }, (_, i) => `dst${c}x${i}`))];
  const server = await startDovecot({ users: users.map((name) => ({ name, password: PASSWORD })) });
  const work = mkdtempSync(join(tmpdir(), 'mf-bench-'));
  try {
    process.stderr.write(`seeding ${CORPUS.messages} messages into a private Dovecot...\n`);
    const seeded = await seedAccount({ host: server.host, port: server.port, user: 'src', password: PASSWORD }, generateCorpus(CORPUS), { folders: corpusFolders(CORPUS) });
    process.stderr.write(`seeded ${seeded.messages} messages, ${(seeded.bytes / 1e6).toFixed(1)} MB\n`);

    const url = (u: string): string => `imap://${u}@${server.host}:${server.port}`;
    const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
    const migrate = (dest: string, connections: number): Promise<Measurement> =>
      measure(process.execPath, [MAIN, 'migrate', '--from', url('src'), '--to', url(dest), '--from-ca', server.caFile, '--to-ca', server.caFile, '--state', join(work, `${dest}.sqlite`), '--connections', String(connections), '--quiet', '--json'], env);

    const rows: Row[] = [];
    for (const c of connectionCounts) {
      const full: Measurement[] = [];
      const rerun: Measurement[] = [];
      for (let i = 0; i < RUNS; i++) {
        const dest = `dst${c}x${i}`;
        full.push(check(await migrate(dest, c), seeded.messages));
        rerun.push(check(await migrate(dest, c), 0));
      }
      rows.push(row(`mailferry migrate, ${c} conn`, 'full', full, seeded.messages, seeded.bytes));
      rows.push(row(`mailferry migrate, ${c} conn`, 'no-change rerun', rerun, 0, 0));
    }
    report(rows, seeded);
  } finally {
    await server.stop();
  }
}

/** A benchmark of a run that did not do its job would be a fake figure: refuse it. */
function check(m: Measurement, expectCopied: number): Measurement {
  if (m.exitCode !== 0) throw new Error(`run failed (exit ${m.exitCode}): ${m.stderr.trim()}`);
  const copied = JSON.parse(m.stdout).totals.copied as number;
  if (copied !== expectCopied) throw new Error(`expected ${expectCopied} messages copied, got ${copied}`);
  return m;
}

function row(tool: string, phase: string, ms: Measurement[], messages: number, bytes: number): Row {
  return {
    tool,
    phase,
    runs: ms.length,
    wall: ms.map((m) => m.wallSeconds),
    messages,
    bytes,
    peakRssMb: Math.max(...ms.map((m) => m.peakRssMb)),
    cpuSeconds: median(ms.map((m) => m.cpuSeconds)),
  };
}

function report(rows: Row[], corpus: { messages: number; bytes: number }): void {
  const lines = [
    `corpus: ${corpus.messages} messages, ${(corpus.bytes / 1e6).toFixed(1)} MB, ${CORPUS.folders} folders (seed ${CORPUS.seed}); ${cpus().length} cores`,
    '',
    '| tool | phase | runs | wall s (median) | min–max | msg/s | MB/s | peak RSS MB | client CPU s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const wall = median(r.wall);
      const rate = (n: number): string => (n > 0 ? (n / wall).toFixed(0) : '-');
      return `| ${r.tool} | ${r.phase} | ${r.runs} | ${wall.toFixed(2)} | ${Math.min(...r.wall).toFixed(2)}–${Math.max(...r.wall).toFixed(2)} | ${rate(r.messages)} | ${r.bytes > 0 ? (r.bytes / 1e6 / wall).toFixed(1) : '-'} | ${r.peakRssMb.toFixed(0)} | ${r.cpuSeconds.toFixed(1)} |`;
    }),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, memoryGb: totalmem() / 2 ** 30, corpus: { ...CORPUS, ...corpus }, rows }, null, 2) + '\n');
  process.stderr.write(`results written to ${file}\n`);
}

await main();

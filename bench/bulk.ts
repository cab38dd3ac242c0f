// `npm run bench:bulk`: many small accounts moved three ways against one private Dovecot:
//   (a) `mailferry bulk migrate LIST --parallel 16` (embedded, one process),
//   (b) the same list enqueued on a private Redis and taken by 4 `mailferry worker --parallel 4`,
//   (c) what imapsync's users do: GNU parallel -j16 over single `mailferry migrate` runs.
// It prints accounts/minute, messages/s, peak RSS per process and Redis's peak memory, and checks
// every destination's message count on disk. BENCH_BULK_ACCOUNTS (default 10000) scales it;
// BENCH_BULK_MODES (e.g. embedded,parallel) runs only some of embedded, distributed, parallel.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { startRedis, type RedisServer } from '../src/sandbox/redis-server.js';
import { BULK_PASSWORD, destinationCounts, destinationUser, emptyDestinations, loadBulkCorpus, messagesOf, sourceUser, type BulkCorpus } from './bulk-accounts.js';
import { describeEnvironment } from './environment.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'dist', 'bin', 'main.js');
const ACCOUNTS = Number(process.env.BENCH_BULK_ACCOUNTS ?? 10_000);
const IN_FLIGHT = 16;
const WORKERS = 4;
/** A mode that has not finished by then is a failed row, not a stalled benchmark. */
const MODE_TIMEOUT_MS = Number(process.env.BENCH_BULK_TIMEOUT_S ?? 3 * 60 * 60) * 1000;

interface ModeResult {
  mode: string;
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  wallSeconds: number;
  /** The highest peak RSS of any one mailferry process of the mode. */
  peakRssMb: number;
  processes: number;
  redisPeakMb?: number;
  /** Destinations whose message count on disk is not the source's. */
  wrongCounts: number;
}

/** A process under GNU time, in its own process group; resolves with its exit code and peak RSS. */
function timed(args: string[], env: NodeJS.ProcessEnv, log: string): { pid: number; done: Promise<{ code: number; rssMb: number }> } {
  const out = `${log}.time`;
  const child = spawn('/usr/bin/time', ['-o', out, '-f', '%M', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), MODE_TIMEOUT_MS);
  const done = new Promise<{ code: number; rssMb: number }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      writeFileSync(log, stderr);
      const last = existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').pop() ?? '' : '';
      resolve({ code: code ?? -1, rssMb: Number(last) / 1024 });
    });
  });
  return { pid: child.pid!, done };
}

/** The one child of a process (GNU time's command), from /proc. */
function childOf(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  if (children.length !== 1 || !children[0]) throw new Error(`process ${pid} has children ${children.join(',')}`);
  return children[0];
}

function accountUrl(server: DovecotServer, user: string): string {
  return `imap://${user}@${server.host}:${server.port}`;
}

function writeList(server: DovecotServer, file: string): void {
  const rows = ['from,to'];
  for (let i = 0; i < ACCOUNTS; i++) rows.push(`${accountUrl(server, sourceUser(i))},${accountUrl(server, destinationUser(i))}`);
  writeFileSync(file, `${rows.join('\n')}\n`, { mode: 0o600 });
}

const passwords = { MAILFERRY_FROM_PASSWORD: BULK_PASSWORD, MAILFERRY_TO_PASSWORD: BULK_PASSWORD };

async function embedded(work: string, list: string): Promise<Omit<ModeResult, 'wrongCounts'>> {
  const started = performance.now();
  const run = timed(['node', CLI, 'bulk', 'migrate', list, '--parallel', String(IN_FLIGHT), '--status', join(work, 'status.sqlite'), '--quiet'], passwords, join(work, 'embedded.log'));
  const { code, rssMb } = await run.done;
  const wallSeconds = (performance.now() - started) / 1000;
  return { mode: `(a) bulk migrate --parallel ${IN_FLIGHT}`, status: code === 0 ? 'ok' : 'failed', ...(code !== 0 ? { reason: `exit ${code}, see ${work}/embedded.log` } : {}), wallSeconds, peakRssMb: rssMb, processes: 1 };
}

async function distributed(work: string, list: string, redis: RedisServer): Promise<Omit<ModeResult, 'wrongCounts'>> {
  const started = performance.now();
  const workers = Array.from({ length: WORKERS }, (_, w) =>
    timed(['node', CLI, 'worker', '--queue', redis.url, '--parallel', String(IN_FLIGHT / WORKERS), '--state-dir', join(work, `worker-${w}`), '--quiet'], passwords, join(work, `worker-${w}.log`)),
  );
  const enqueue = timed(['node', CLI, 'bulk', 'migrate', list, '--queue', redis.url, '--quiet'], {}, join(work, 'enqueue.log'));
  const followed = await enqueue.done;
  const wallSeconds = (performance.now() - started) / 1000;
  // To the worker itself, GNU time's child: time would die of it, and the worker's exit be lost.
  for (const w of workers) process.kill(childOf(w.pid), 'SIGTERM');
  const ended = await Promise.all(workers.map((w) => w.done));
  const peak = Math.max(...ended.map((e) => e.rssMb));
  const redisPeakMb = (await redis.peakMemory()) / 2 ** 20;
  const failedWorker = ended.findIndex((e) => e.code !== 0);
  const reason = followed.code !== 0 ? `enqueue/follow exit ${followed.code}, see ${work}/enqueue.log` : failedWorker >= 0 ? `worker ${failedWorker} exit ${ended[failedWorker]!.code}` : undefined;
  return { mode: `(b) ${WORKERS} workers × --parallel ${IN_FLIGHT / WORKERS} on Redis`, status: reason ? 'failed' : 'ok', ...(reason ? { reason } : {}), wallSeconds, peakRssMb: peak, processes: WORKERS + 1, redisPeakMb };
}

async function gnuParallel(work: string, list: string): Promise<Omit<ModeResult, 'wrongCounts'>> {
  const mode = `(c) GNU parallel -j${IN_FLIGHT} over single migrate runs`;
  const installed = () => spawnSync('parallel', ['--version'], { stdio: 'ignore' }).status === 0;
  // As root, install the anchor as the main benchmark installs its anchors.
  if (!installed() && process.getuid?.() === 0) spawnSync('apt-get', ['install', '-y', '-qq', 'parallel'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!installed()) {
    return { mode, status: 'skipped', reason: 'GNU parallel is not installed (apt-get install -y parallel)', wallSeconds: 0, peakRssMb: 0, processes: 0 };
  }
  const states = join(work, 'states');
  mkdirSync(states);
  const rss = join(work, 'rss');
  // One line per job: GNU time's peak RSS of that migrate run, appended.
  const job = `/usr/bin/time -a -o ${rss} -f %M node ${CLI} migrate --from {from} --to {to} --state ${states}/{#}.sqlite --quiet`;
  const started = performance.now();
  const run = timed(['parallel', '-j', String(IN_FLIGHT), '--colsep', ',', '--header', ':', '--halt', 'never', job, '::::', list], passwords, join(work, 'parallel.log'));
  const { code } = await run.done;
  const wallSeconds = (performance.now() - started) / 1000;
  const peaks = readFileSync(rss, 'utf8').split('\n').map(Number).filter((n) => n > 0);
  return { mode, status: code === 0 ? 'ok' : 'failed', ...(code !== 0 ? { reason: `${code} runs failed, see ${work}/parallel.log` } : {}), wallSeconds, peakRssMb: Math.max(...peaks) / 1024, processes: peaks.length };
}

function table(corpus: BulkCorpus, results: ModeResult[]): string {
  const anchor = results.find((r) => r.mode.startsWith('(c)') && r.status === 'ok');
  const lines = [
    `${corpus.accounts} accounts, ${corpus.messages} messages, ${(corpus.bytes / 2 ** 20).toFixed(1)} MiB; ${IN_FLIGHT} accounts in flight in every mode`,
    '',
    '| mode | wall s | accounts/min | messages/s | peak RSS per process MB | processes | Redis peak MB | wrong counts | speed vs (c) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    if (r.status !== 'ok') {
      lines.push(`| ${r.mode} | ${r.status}: ${r.reason ?? ''} | | | | | | ${r.wrongCounts} | |`);
      continue;
    }
    const speedup = anchor ? `${(anchor.wallSeconds / r.wallSeconds).toFixed(2)}x` : 'n/a';
    lines.push(
      `| ${r.mode} | ${r.wallSeconds.toFixed(1)} | ${((corpus.accounts / r.wallSeconds) * 60).toFixed(0)} | ${(corpus.messages / r.wallSeconds).toFixed(0)} | ${r.peakRssMb.toFixed(0)} | ${r.processes} | ${r.redisPeakMb?.toFixed(1) ?? ''} | ${r.wrongCounts} | ${speedup} |`,
    );
  }
  lines.push('', 'Targets: (a) and (b) at least 3x the throughput of (c); peak RSS below 400 MB per worker with 16 accounts in flight.');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'mf-bench-bulk-'));
  const server = await startDovecot({ users: [], specialUse: false });
  const redis = await startRedis();
  const results: ModeResult[] = [];
  let failed = false;
  try {
    console.log(`loading ${ACCOUNTS} source accounts and ${ACCOUNTS} destinations...`);
    const corpus = await loadBulkCorpus(server, ACCOUNTS);
    const list = join(work, 'accounts.csv');
    writeList(server, list);
    const modes: Array<[string, (dir: string) => Promise<Omit<ModeResult, 'wrongCounts'>>]> = [
      ['embedded', (dir) => embedded(dir, list)],
      ['distributed', (dir) => distributed(dir, list, redis)],
      ['parallel', (dir) => gnuParallel(dir, list)],
    ];
    const only = process.env.BENCH_BULK_MODES?.split(',');
    for (const [name, run] of modes.filter(([name]) => !only || only.includes(name))) {
      await emptyDestinations(server, ACCOUNTS);
      const dir = join(work, name);
      mkdirSync(dir);
      spawnSync('sync');
      console.log(`running ${name}...`);
      const result = await run(dir);
      const counts = result.status === 'skipped' ? [] : await destinationCounts(server, ACCOUNTS);
      const wrongCounts = counts.filter((c, i) => c !== messagesOf(i)).length;
      results.push({ ...result, wrongCounts, ...(result.status === 'ok' && wrongCounts > 0 ? { status: 'failed', reason: `${wrongCounts} destinations with the wrong count` } : {}) });
      failed ||= results.at(-1)!.status === 'failed';
      console.log(`  ${results.at(-1)!.status} in ${result.wallSeconds.toFixed(1)} s`);
    }
    const text = table(corpus, results);
    console.log(`\n${text}`);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
    writeFileSync(join(REPO, 'bench', 'results', `bulk-${stamp}.md`), `${text}\n`);
    writeFileSync(join(REPO, 'bench', 'results', `bulk-${stamp}.json`), `${JSON.stringify({ environment: describeEnvironment(), corpus, results }, null, 2)}\n`);
  } finally {
    await redis.stop();
    await server.stop();
    if (!failed) rmSync(work, { recursive: true, force: true });
    else console.log(`logs kept in ${work}`);
  }
  if (failed) process.exitCode = 1;
}

await main();

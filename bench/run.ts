/**
 * `npm run bench`: mailferry side by side with mbsync, Dovecot's `doveadm backup` (imapc:) and
 * OfflineIMAP, on the same deterministic corpora in the same private Dovecot, on loopback and
 * through a 40 ms delay proxy (issue #5). Prints a Markdown table with the issue's targets and
 * writes JSON to bench/results/. Never part of `npm test`.
 *
 * BENCH_RUNS (default 3): repetitions of every row. BENCH_ONLY: a regular expression; only the
 * cases whose label ("<tool> @ <rtt> ms on <corpus>") matches are run, for profiling one of them.
 * BENCH_BASELINE: another build's dist/bin/main.js, run beside every migrate case (see plan.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import type { BenchCorpus } from './corpora.js';
import { startDelayProxy, type DelayProxy } from './delay-proxy.js';
import { describeEnvironment } from './environment.js';
import { loadCorpora, type Loaded } from './maildir-loader.js';
import { measure, stopAll } from './measure.js';
import { CASES, caseLabel, RTT_MS, type Case } from './plan.js';
import { markdown, save, type Results } from './report.js';
import { addMeasurement, type Row } from './results.js';
import { imapRoundTrips, type RoundTrips } from './round-trip.js';
import { checkTargets } from './targets.js';
import { PASSWORD, type Phase, type PreparedRun } from './tool.js';
import { installBinaries } from './tools/binaries.js';

const RUNS = positiveInt(process.env.BENCH_RUNS ?? '3', 'BENCH_RUNS');
const ONLY = process.env.BENCH_ONLY === undefined ? undefined : new RegExp(process.env.BENCH_ONLY);
/** The proxy must add the RTT it is set to, give or take timer slack (on its fastest round trip). */
const RTT_TOLERANCE_MS = { below: 1, above: 3 };

/** A 1-minute load average above this before the start means the machine is not idle. */
const BUSY_LOAD = 0.5;

let interrupted = false;
const log = (line: string): void => void process.stderr.write(`[bench ${elapsed()}] ${line}\n`);
const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)}s`;

async function main(): Promise<number> {
  installBinaries(log);
  const loadAtStart = loadavg()[0]!;
  if (loadAtStart > BUSY_LOAD) log(`warning: load average ${loadAtStart.toFixed(2)}: something else is running, the figures will be noisy`);
  const cases = CASES.filter((c) => ONLY === undefined || ONLY.test(caseLabel(c)));
  if (cases.length === 0) throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY} matches no case; the cases are:\n${CASES.map(caseLabel).join('\n')}`);
  const corpora = [...new Set(cases.map((c) => c.corpus))];

  const server = await startDovecot({ users: corpora.map((c) => ({ name: c.user, password: PASSWORD })) });
  let proxy: DelayProxy | undefined;
  // The tools run in their own process groups, out of the terminal's reach: stop them, the proxy
  // and Dovecot here.
  const interrupt = (): void => {
    interrupted = true;
    log('interrupted: stopping');
    stopAll();
    void Promise.allSettled([proxy?.close(), server.stop()]).then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    log(`loading ${corpora.map((c) => c.name).join(', ')} into ${server.dir}...`);
    const loaded = await loadCorpora(server, corpora);
    for (const [c, l] of loaded) log(`loaded ${c.name}: ${l.messages} messages, ${(l.bytes / 1e6).toFixed(1)} MB`);

    let roundTrips: { direct: RoundTrips; proxied: RoundTrips } | undefined;
    if (cases.some((c) => c.rttMs > 0)) {
      proxy = await startDelayProxy({ host: server.host, port: server.port }, RTT_MS);
      roundTrips = await checkProxy(server, proxy, corpora[0]!.user);
    }

    const rows = await runAll(server, proxy, cases, loaded);
    const results: Results = {
      date: new Date(started).toISOString(),
      command: `BENCH_RUNS=${RUNS}${ONLY ? ` BENCH_ONLY='${ONLY.source}'` : ''}${process.env.BENCH_BASELINE ? ` BENCH_BASELINE=${process.env.BENCH_BASELINE}` : ''} npm run bench`,
      runsPerCase: RUNS,
      totalWallSeconds: (Date.now() - started) / 1000,
      loadAverage: { start: loadAtStart, end: loadavg()[0]! },
      environment: describeEnvironment(),
      proxy: roundTrips && { rttMs: RTT_MS, ...roundTrips },
      corpora: [...loaded].map(([c, l]) => ({ name: c.name, user: c.user, ...l, options: c.options, spreadBig: c.spreadBig, selection: c.subset?.selection })),
      rows,
      targets: checkTargets(rows),
    };
    process.stdout.write(markdown(results));
    log(`results written to ${save(results)}; total wall ${results.totalWallSeconds.toFixed(0)} s`);
    const failed = results.rows.filter((r) => r.status === 'failed');
    for (const r of failed) log(`FAILED: ${r.tool} @ ${r.rttMs} ms on ${r.corpus}, ${r.phase}: ${r.reason}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await proxy?.close();
    await server.stop();
  }
}

/**
 * Repetitions are the outer loop, so slow drift on the machine (others' tests, page cache,
 * writeback) spreads over every tool instead of favouring whichever ran first. A failed run marks
 * its case failed, with no figures, and the case is not run again.
 */
async function runAll(server: DovecotServer, proxy: DelayProxy | undefined, cases: Case[], loaded: Map<BenchCorpus, Loaded>): Promise<Row[]> {
  const rows = new Map<Case, Record<Phase, Row>>();
  for (const c of cases) {
    const { messages, bytes } = loaded.get(c.corpus)!;
    const row = (phase: Phase): Row => ({
      tool: c.tool.name, rttMs: c.rttMs, corpus: c.corpus.name, phase, messages, bytes, status: 'ok', wallSeconds: [], cpuSeconds: [], machineCpuSeconds: [], peakRssMb: [],
    });
    const r = { full: row('full'), rerun: row('rerun') };
    const skip = await c.tool.unavailable();
    if (skip !== undefined) for (const p of [r.full, r.rerun]) Object.assign(p, { status: 'skipped', reason: skip });
    rows.set(c, r);
  }

  for (let rep = 0; rep < RUNS; rep++) {
    for (const c of cases) {
      const r = rows.get(c)!;
      if (r.full.status !== 'ok' || r.rerun.status !== 'ok') continue;
      const workDir = mkdtempSync(join(tmpdir(), 'mf-bench-run-'));
      let phase: Phase = 'full';
      let run: PreparedRun | undefined;
      try {
        const endpoint = c.rttMs === 0 ? { host: server.host, port: server.port } : proxy!;
        const id = `case${cases.indexOf(c)}run${rep}`;
        run = await c.tool.prepare({ server, source: { user: c.corpus.user, messages: loaded.get(c.corpus)!.messages }, endpoint, workDir, id });
        for (phase of ['full', 'rerun'] as const) {
          const m = await measure(run.command);
          await run.check(m, phase);
          addMeasurement(r[phase], m);
        }
        log(`${rep + 1}/${RUNS} ${caseLabel(c)}: full ${r.full.wallSeconds.at(-1)!.toFixed(2)} s, rerun ${r.rerun.wallSeconds.at(-1)!.toFixed(2)} s`);
      } catch (err) {
        if (interrupted) throw new Error('interrupted: no results written');
        const reason = (err as Error).message.replace(/\s+/g, ' ').slice(0, 500);
        r[phase].status = 'failed';
        r[phase].reason = reason;
        if (phase === 'full') Object.assign(r.rerun, { status: 'failed', reason: 'its full run failed' });
        log(`FAILED ${caseLabel(c)} (${phase}): ${reason}`);
      } finally {
        await run?.cleanup();
        rmSync(workDir, { recursive: true, force: true });
      }
    }
  }
  return [...rows.values()].flatMap((r) => [r.full, r.rerun]);
}

/** Refuses to benchmark through a proxy that does not add the RTT it is set to. */
async function checkProxy(server: DovecotServer, proxy: DelayProxy, user: string): Promise<{ direct: RoundTrips; proxied: RoundTrips }> {
  const direct = await imapRoundTrips({ host: server.host, port: server.port }, user, PASSWORD);
  const proxied = await imapRoundTrips(proxy, user, PASSWORD);
  const added = proxied.noopMinMs - direct.noopMinMs;
  log(`delay proxy: NOOP ${proxied.noopMs.toFixed(1)} ms, fastest ${proxied.noopMinMs.toFixed(1)} (direct ${direct.noopMs.toFixed(1)}); LOGIN ${proxied.loginMs.toFixed(1)} ms (direct ${direct.loginMs.toFixed(1)})`);
  if (added < proxy.rttMs - RTT_TOLERANCE_MS.below || added > proxy.rttMs + RTT_TOLERANCE_MS.above) {
    throw new Error(`the delay proxy adds ${added.toFixed(1)} ms per round trip, not ${proxy.rttMs}`);
  }
  return { direct, proxied };
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(value)}`);
  return n;
}

process.exitCode = await main();

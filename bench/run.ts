/**
 * `npm run bench`: mailferry side by side with mbsync, Dovecot's `doveadm backup` (imapc:) and
 * OfflineIMAP, on the same deterministic corpora in the same private Dovecot, on loopback and
 * through delay proxies (40 and 100 ms, a capped 4 MB/s link), in plaintext and over TLS (issues
 * #5 and #17). Prints a Markdown table with the issues' targets and writes JSON to
 * bench/results/. Never part of `npm test`.
 *
 * BENCH_RUNS (default 3): repetitions of every row. BENCH_ONLY: a regular expression; only the
 * cases whose label ("<tool> @ <rtt> ms[ TLS][, <cap> MB/s] on <corpus>") matches are run, for
 * profiling one of them. BENCH_BASELINE: another build's dist/bin/main.js, run beside every
 * migrate case (see plan.ts). BENCH_LARGE=1: the 200,000-message account too (see corpora.ts for
 * BENCH_LARGE_MESSAGES, a smoke-test size).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEnvironment } from './environment.js';
import { Lab } from './lab.js';
import { measure, stopAll } from './measure.js';
import { prepareNewMail, type NewMail } from './new-mail.js';
import { CASES, caseLabel, type Case } from './plan.js';
import { markdown, save, type Results } from './report.js';
import { addMeasurement, type Row } from './results.js';
import { checkTargets } from './targets.js';
import { NEW_MESSAGES, type Phase, type PreparedRun } from './tool.js';
import { installBinaries } from './tools/binaries.js';

const RUNS = positiveInt(process.env.BENCH_RUNS ?? '3', 'BENCH_RUNS');
const ONLY = process.env.BENCH_ONLY === undefined ? undefined : new RegExp(process.env.BENCH_ONLY);

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

  const lab = new Lab(log);
  // The tools run in their own process groups, out of the terminal's reach: stop them, the
  // proxies and Dovecot here.
  const interrupt = (): void => {
    interrupted = true;
    log('interrupted: stopping');
    stopAll();
    void lab.close().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    await lab.start(cases);
    const rows = await runAll(lab, cases);
    const results: Results = {
      date: new Date(started).toISOString(),
      command: `${['BENCH_LARGE', 'BENCH_LARGE_MESSAGES'].filter((v) => process.env[v]).map((v) => `${v}=${process.env[v]} `).join('')}BENCH_RUNS=${RUNS}${ONLY ? ` BENCH_ONLY='${ONLY.source}'` : ''}${process.env.BENCH_BASELINE ? ` BENCH_BASELINE=${process.env.BENCH_BASELINE}` : ''} npm run bench`,
      runsPerCase: RUNS,
      totalWallSeconds: (Date.now() - started) / 1000,
      loadAverage: { start: loadAtStart, end: loadavg()[0]! },
      environment: describeEnvironment(),
      proxies: lab.proxyChecks,
      corpora: lab.corpora().map(([c, l]) => ({ name: c.name, user: c.user, ...l, options: c.options, spreadBig: c.spreadBig, selection: c.subset?.selection })),
      rows,
      targets: checkTargets(rows),
    };
    process.stdout.write(markdown(results));
    log(`results written to ${save(results)}; total wall ${results.totalWallSeconds.toFixed(0)} s`);
    const failed = results.rows.filter((r) => r.status === 'failed');
    for (const r of failed) log(`FAILED: ${r.tool} @ ${r.rttMs} ms${r.tls ? ' TLS' : ''} on ${r.corpus}, ${r.phase}: ${r.reason}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await lab.close();
  }
}

const phasesOf = (c: Case): Phase[] => (c.update ? ['full', 'rerun', 'update'] : ['full', 'rerun']);

/**
 * Repetitions are the outer loop, so slow drift on the machine (others' tests, page cache,
 * writeback) spreads over every tool instead of favouring whichever ran first. A failed run marks
 * its case failed, with no figures, and the case is not run again.
 */
async function runAll(lab: Lab, cases: Case[]): Promise<Row[]> {
  const rows = new Map<Case, Map<Phase, Row>>();
  for (const c of cases) {
    const { messages, bytes } = lab.loaded(c.link, c.corpus);
    const row = (phase: Phase): Row => ({
      tool: c.tool.name, rttMs: c.link.rttMs, tls: c.link.tls, rate: c.link.rate ?? null, corpus: c.corpus.name, phase, messages, bytes,
      status: 'ok', wallSeconds: [], cpuSeconds: [], machineCpuSeconds: [], peakRssMb: [],
    });
    const r = new Map(phasesOf(c).map((p) => [p, row(p)]));
    const skip = await c.tool.unavailable();
    if (skip !== undefined) for (const p of r.values()) Object.assign(p, { status: 'skipped', reason: skip });
    rows.set(c, r);
  }

  for (let rep = 0; rep < RUNS; rep++) {
    for (const c of cases) {
      const r = rows.get(c)!;
      if (rep >= (c.maxRuns ?? RUNS) || [...r.values()].some((p) => p.status !== 'ok')) continue;
      const workDir = mkdtempSync(join(tmpdir(), 'mf-bench-run-'));
      let phase: Phase = 'full';
      let run: PreparedRun | undefined;
      let newMail: NewMail | undefined;
      const server = lab.server(c.link);
      const source = { user: c.corpus.user, messages: lab.loaded(c.link, c.corpus).messages };
      try {
        const id = `case${cases.indexOf(c)}run${rep}`;
        run = await c.tool.prepare({ server, source, endpoint: lab.endpoint(c.link), workDir, id });
        const proxy = lab.proxy(c.link);
        for (phase of phasesOf(c)) {
          if (phase === 'update') {
            newMail = await prepareNewMail(server, c.corpus);
            await newMail.add();
            source.messages += NEW_MESSAGES;
          }
          const before = proxy && { ...proxy.bytes };
          const m = await measure(run.command);
          const wire = proxy && before && { up: proxy.bytes.up - before.up, down: proxy.bytes.down - before.down };
          await run.check(m, phase);
          addMeasurement(r.get(phase)!, m, wire);
        }
        const figures = [...r.entries()].map(([p, row]) => `${p} ${row.wallSeconds.at(-1)!.toFixed(2)} s`).join(', ');
        log(`${rep + 1}/${Math.min(RUNS, c.maxRuns ?? RUNS)} ${caseLabel(c)}: ${figures}`);
      } catch (err) {
        if (interrupted) throw new Error('interrupted: no results written');
        const reason = (err as Error).message.replace(/\s+/g, ' ').slice(0, 500);
        const failed = r.get(phase)!;
        failed.status = 'failed';
        failed.reason = reason;
        for (const later of phasesOf(c).slice(phasesOf(c).indexOf(phase) + 1)) Object.assign(r.get(later)!, { status: 'failed', reason: `its ${phase} run failed` });
        log(`FAILED ${caseLabel(c)} (${phase}): ${reason}`);
      } finally {
        await run?.cleanup();
        await newMail?.remove();
        rmSync(workDir, { recursive: true, force: true });
      }
    }
  }
  return [...rows.values()].flatMap((r) => [...r.values()]);
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(value)}`);
  return n;
}

process.exitCode = await main();

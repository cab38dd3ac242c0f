import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { snapshotBackup, snapshotMboxFiles, walk } from './support/backup-snapshot.js';
import { runCli, type CliRun } from './support/cli.js';
import { startFaultProxy, type Cut } from './support/imap-fault-proxy.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';
import { prng } from './support/prng.js';

const PASSWORD = 'pw-FaultCut-8';
const RUNS = 30;
const PARALLEL = 4;
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const KINDS = ['migrate', 'backup-maildir', 'backup-mbox', 'restore'] as const;
type Kind = (typeof KINDS)[number];
const APPEND = /^\S+ APPEND /;
/**
 * Cuts at the places that matter most, each where a run is fragile: logging in, mid-literal, a
 * command done but unanswered. `hide`: capabilities the proxy hides (without MULTIAPPEND, a batch
 * goes as single APPENDs, pipelined).
 */
const POINTS: Array<{ kind: Kind; cut: Cut; hide?: string[] }> = [
  { kind: 'migrate', cut: { kind: 'rst', at: { inside: 'login' } } },
  { kind: 'backup-maildir', cut: { kind: 'fin', at: { inside: 'login' } } },
  { kind: 'migrate', cut: { kind: 'fin', at: { beforeReplyTo: /^\S+ LIST / } } },
  { kind: 'backup-mbox', cut: { kind: 'rst', at: { inside: 'fetch-literal', nth: 5 } } },
  { kind: 'migrate', cut: { kind: 'fin', at: { inside: 'fetch-literal', nth: 40 } } },
  { kind: 'restore', cut: { kind: 'rst', at: { inside: 'append-literal' } } },
  { kind: 'migrate', cut: { kind: 'fin', at: { inside: 'append-literal', nth: 3 } } },
  { kind: 'restore', cut: { kind: 'rst', at: { beforeReplyTo: APPEND, nth: 2 } } },
  { kind: 'migrate', cut: { kind: 'fin', at: { beforeReplyTo: APPEND } } },
  { kind: 'backup-maildir', cut: { kind: 'rst', at: { beforeReplyTo: /^\S+ UID FETCH /, nth: 3 } } },
  { kind: 'migrate', cut: { kind: 'fin', at: { inside: 'append-literal', nth: 10 } }, hide: ['MULTIAPPEND'] },
  { kind: 'restore', cut: { kind: 'rst', at: { beforeReplyTo: APPEND, nth: 5 } }, hide: ['MULTIAPPEND'] },
];

const work = mkdtempSync(path.join(tmpdir(), 'mf-faults-cut-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: path.join(work, 'state') };
let server: DovecotServer;
let source: Snapshot;
/** Bytes of the corpus's messages: each direction that carries them carries at least this many. */
let corpusBytes = 0;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string, port = server.port) => `imap://${user}@${server.host}:${port}`;
const baseBackup = () => path.join(work, 'base');

beforeAll(async () => {
  server = await startDovecot({ users: ['src', ...Array.from({ length: RUNS + POINTS.length }, (_, i) => `u${i}`)].map((name) => ({ name, password: PASSWORD })) });
  // Small, with a few larger messages so that a random offset often lands inside a literal.
  const opts = { seed: 11, messages: 200, folders: 6, maxSize: 150_000, bigMessages: [400_000, 900_000] };
  for (const m of generateCorpus(opts)) corpusBytes += m.raw.length;
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  source = await snapshotAccount(addr('src'));
  const base = await runCli(['backup', '--from', url('src'), '--to', baseBackup(), '--quiet'], env);
  expect(base.code, base.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

/** The command for run `i` of `kind`, through the proxy at `port` (or straight to the server). */
function args(kind: Kind, i: number, port: number): string[] {
  const state = ['--state', path.join(work, `u${i}.sqlite`)];
  const common = ['--connections', '2', '--json'];
  switch (kind) {
    case 'migrate':
      return ['migrate', '--from', url('src', port), '--to', url(`u${i}`, port), ...state, ...common];
    case 'backup-maildir':
    case 'backup-mbox':
      return ['backup', '--from', url('src', port), '--to', path.join(work, `b${i}`), '--format', kind === 'backup-mbox' ? 'mbox' : 'maildir', ...common];
    case 'restore':
      return ['restore', '--from', baseBackup(), '--to', url(`u${i}`, port), ...state, ...common];
  }
}

/**
 * A cut at a random byte offset of the direction that carries the messages (both, for migrate).
 * One in five falls in the first 3 KB: the greeting, the login, the folder listing.
 */
function randomCut(kind: Kind, rnd: () => number): Cut {
  const direction = kind === 'restore' ? 'up' : kind === 'migrate' ? (rnd() < 0.5 ? 'up' : 'down') : 'down';
  const after = Math.floor(rnd() * (rnd() < 0.2 ? 3072 : corpusBytes));
  return { kind: rnd() < 0.5 ? 'fin' : 'rst', at: { after, direction } };
}

/** What the run left, compared with the source by the oracle; for backups, also files half written. */
async function check(kind: Kind, i: number): Promise<{ diff: ReturnType<typeof diffSnapshots>; partialFiles: string[] }> {
  if (kind === 'migrate' || kind === 'restore') return { diff: diffSnapshots(source, await snapshotAccount(addr(`u${i}`))), partialFiles: [] };
  const dir = path.join(work, `b${i}`);
  const diff = diffSnapshots(source, await snapshotBackup(dir));
  if (kind === 'backup-mbox') {
    // As a mail reader splits the files: a half-appended message would show here.
    const files = diffSnapshots(source, await snapshotMboxFiles(dir));
    diff.details.push(...files.details);
    diff.duplicates += files.duplicates;
    diff.equal &&= files.equal;
  }
  const partialFiles = (await walk(dir)).filter((f) => f.type === 'file' && (/\/tmp\/[^/]+$/.test(f.path) || /\.tmp-\d+$/.test(f.path))).map((f) => f.path);
  return { diff, partialFiles };
}

/** Run `i` through a proxy making `cut`, then a rerun if it failed; checks what it left. */
async function cutRun(i: number, kind: Kind, cut: Cut, hide?: string[]): Promise<Outcome> {
  const proxy = await startFaultProxy({ host: server.host, port: server.port }, { cuts: [cut], ...(hide ? { hideCapabilities: hide } : {}) });
  const outcome: Outcome = { i, kind, cut: 'no cut', first: null, reconnects: 0 };
  try {
    const first = await runCli(args(kind, i, proxy.port), env);
    Object.assign(outcome, { cut: proxy.log.find((l) => l.includes('cut')) ?? 'no cut', first: first.code, reconnects: summary(first)?.reconnects ?? 0 });
    expect(proxy.log.join('\n'), `run ${i}: the cut happened`).toMatch(/cut on connection/);
    if (first.code !== 0) {
      outcome.errorLine = first.stderr.trim().split('\n').pop();
      // A failure is a documented one: a one-line error, never an internal error or a stack.
      expect(first.code, first.stderr).toBe(4);
      expect(first.stderr).not.toMatch(/internal error|\n\s+at /);
      // Through the same proxy (its one cut made), so a backup sees the account it was made of.
      const rerun = await runCli(args(kind, i, proxy.port), env);
      outcome.rerun = rerun.code;
      expect(rerun.code, rerun.stderr).toBe(0);
    }
  } finally {
    await proxy.close();
  }
  const { diff, partialFiles } = await check(kind, i);
  expect(diff.details, `run ${i} (${kind}, ${outcome.cut})`).toEqual([]);
  expect(diff.duplicates).toBe(0);
  expect(partialFiles, `run ${i}`).toEqual([]);
  return outcome;
}

interface Outcome {
  i: number;
  kind: Kind;
  cut: string;
  first: number | null;
  reconnects: number;
  rerun?: number | null;
  errorLine?: string;
}

describe('connections cut at random byte offsets (FIN and RST) during migrate, backup (Maildir, mbox) and restore', () => {
  it(`${RUNS} cuts: each run reconnects and finishes by itself, or a rerun does; the oracle equal, no duplicates, no partial files`, async () => {
    console.log(`faults-cut seed ${SEED} (FAULT_SEED=${SEED} replays it)`);
    const rnd = prng(SEED);
    const cuts = Array.from({ length: RUNS }, (_, i) => randomCut(KINDS[i % KINDS.length]!, rnd));
    const outcomes: Outcome[] = [];
    // A few runs at a time (each with its own proxy and account): most of a run is waiting.
    let next = 0;
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      for (let i = next++; i < RUNS; i = next++) outcomes.push(await cutRun(i, KINDS[i % KINDS.length]!, cuts[i]!));
    }));
    outcomes.sort((a, b) => a.i - b.i);
    const byThemselves = outcomes.filter((o) => o.first === 0).length;
    const reconnects = outcomes.reduce((n, o) => n + o.reconnects, 0);
    console.log(outcomes.map((o) => `${o.i} ${o.kind}: ${o.cut}; exit ${o.first}${o.rerun !== undefined ? `, rerun exit ${o.rerun} (${o.errorLine})` : ''}; ${o.reconnects} reconnects`).join('\n'));
    console.log(`faults-cut: ${byThemselves} of ${RUNS} runs finished by themselves (exit 0), ${reconnects} reconnects in all`);
    // A single cut must not need a human: the run reconnects and resumes on its own.
    expect(byThemselves).toBe(RUNS);
    expect(reconnects).toBeGreaterThan(0);
  }, 300_000);
});

describe('connections cut at chosen points', () => {
  it('inside the login, inside FETCH and APPEND literals, between a command and its answer (also among pipelined single APPENDs): the run reconnects and finishes by itself', async () => {
    const outcomes: Outcome[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      for (let k = next++; k < POINTS.length; k = next++) outcomes.push(await cutRun(RUNS + k, POINTS[k]!.kind, POINTS[k]!.cut, POINTS[k]!.hide));
    }));
    outcomes.sort((a, b) => a.i - b.i);
    console.log(outcomes.map((o) => `${o.kind}: ${o.cut}; exit ${o.first}; ${o.reconnects} reconnects`).join('\n'));
    for (const o of outcomes) {
      expect(o.first, `${o.kind}: ${o.cut}`).toBe(0);
      expect(o.reconnects, `${o.kind}: ${o.cut}`).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);
});

describe('what a killed backup leaves behind', () => {
  it('a rerun with nothing new removes the temporaries of atomic writes (dovecot-uidlist.tmp-PID), found by the soak', async () => {
    const dir = path.join(work, 'leftovers');
    const backup = () => runCli(['backup', '--from', url('src'), '--to', dir, '--quiet'], env);
    expect((await backup()).code).toBe(0);
    // As a kill -9 between writing a folder's new uidlist and renaming it over the old one leaves them.
    const planted = ['Maildir/.Work/dovecot-uidlist.tmp-4194301', 'Maildir/dovecot-keywords.tmp-4194302', 'manifest.json.tmp-4194303'];
    for (const f of planted) await fs.writeFile(path.join(dir, f), 'half written');
    const rerun = await backup();
    expect(rerun.code, rerun.stderr).toBe(0);
    const left = (await walk(dir)).filter((f) => /\.tmp-\d+$/.test(f.path));
    expect(left).toEqual([]);
    expect(diffSnapshots(source, await snapshotBackup(dir)).details).toEqual([]);
  });
});

function summary(run: CliRun): { reconnects: number } | undefined {
  try {
    return JSON.parse(run.stdout) as { reconnects: number };
  } catch {
    return undefined;
  }
}

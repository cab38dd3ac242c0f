// `npm run soak`: kill -9 at random moments of migrate, backup (Maildir, mbox) and restore runs,
// each followed by a rerun, through a fault proxy that cuts one connection in ten; at the end of
// each round the oracle must be equal with 0 duplicates. Outside `npm test`: it takes hours at the
// defaults. Environment: SOAK_KILLS (200), SOAK_MESSAGES (5000), SOAK_KILLS_PER_ROUND (5),
// SOAK_SEED (printed; replays the random choices, not the machine's timing).
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { corpusFolders, generateCorpus } from '../../src/sandbox/corpus.js';
import { startDovecot } from '../../src/sandbox/dovecot-server.js';
import { seedAccount } from '../../src/sandbox/seed.js';
import { snapshotBackup, snapshotMboxFiles, walk } from '../support/backup-snapshot.js';
import { runCli, startCli, type CliRun } from '../support/cli.js';
import { startFaultProxy } from '../support/imap-fault-proxy.js';
import { diffSnapshots, snapshotAccount, type Snapshot, type SnapshotDiff } from '../support/oracle.js';
import { prng } from '../support/prng.js';

const KILLS = Number(process.env.SOAK_KILLS ?? 200);
const MESSAGES = Number(process.env.SOAK_MESSAGES ?? 5000);
const KILLS_PER_ROUND = Number(process.env.SOAK_KILLS_PER_ROUND ?? 5);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
const KINDS = ['backup-maildir', 'backup-mbox', 'migrate', 'restore'] as const;
type Kind = (typeof KINDS)[number];
/** Rerun tries after the last kill of a round (a random cut may also end one with exit 4). */
const FINAL_TRIES = 4;
/** A file changed this recently when the kill landed was being written. */
const RECENT_MS = 50;

const PASSWORD = 'pw-Soak-9';
// A round ends early when a run finishes before its kill: at worst one kill a round.
const rounds = KILLS + 2 * KINDS.length;
const accounts = Array.from({ length: rounds }, (_, r) => `d${r}`);
const work = mkdtempSync(path.join(tmpdir(), 'mf-soak-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: path.join(work, 'state') };
const random = prng(SEED);

console.log(`soak: seed ${SEED} (SOAK_SEED=${SEED}), ${KILLS} kills, ${MESSAGES} messages, ${KILLS_PER_ROUND} kills a round, in ${work}`);
const server = await startDovecot({ users: ['src', ...accounts].map((name) => ({ name, password: PASSWORD })) });
const proxy = await startFaultProxy({ host: server.host, port: server.port }, { randomCuts: { oneIn: 10, maxBytes: 4 << 20, random } });
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${proxy.port}`;

const hits = { APPEND: 0, FETCH: 0, 'journal commit': 0, 'file write': 0, 'none of these': 0 };
const failures: string[] = [];
/** How long a whole run of each kind took from scratch: kills are spread over that. */
const duration: Record<Kind, number> = { 'backup-maildir': 20_000, 'backup-mbox': 20_000, migrate: 30_000, restore: 30_000 };
let kills = 0;
let missed = 0;
let lastMaildir: string | undefined;

try {
  const opts = { seed: SEED, messages: MESSAGES, folders: 24, maxSize: 1_000_000 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  const source = await snapshotAccount(addr('src'));
  for (let r = 0; kills < KILLS; r++) {
    if (r >= rounds) throw new Error(`soak: ${rounds} rounds made only ${kills} kills; runs end before their kill`);
    // A restore needs a whole Maildir backup to read: the first rounds make one.
    const kind = KINDS[r % KINDS.length]!;
    if (kind === 'restore' && !lastMaildir) continue;
    await round(r, kind, source);
  }
} finally {
  await proxy.close();
  await server.stop();
}

const total = Object.values(hits).reduce((a, b) => a + b, 0);
console.log(`soak: ${kills} kills (${missed} more runs ended before their kill); the proxy cut ${proxy.log.filter((l) => l.includes(' cut ')).length} of ${proxy.connections()} connections (one in ten was to be cut, at a byte below 4 MB; shorter ones escaped)`);
console.log(`soak: kills that hit ${Object.entries(hits).map(([k, v]) => `${k}: ${v}`).join(', ')} (one kill may count in several; ${total} in all)`);
console.log(failures.length === 0 ? 'soak: every round equal by the oracle, 0 duplicates, 0 partial files' : `soak: FAILED\n${failures.join('\n')}`);
process.exitCode = failures.length === 0 ? 0 : 1;

/** One destination from scratch: runs killed at random moments, then reruns until one finishes; then the oracle. */
async function round(r: number, kind: Kind, source: Snapshot): Promise<void> {
  const target = kind === 'migrate' || kind === 'restore' ? accounts[r]! : path.join(work, `backup-${r}`);
  const state = path.join(work, `state-${r}.sqlite`);
  const args = runArgs(kind, target, state);
  for (let k = 0; k < KILLS_PER_ROUND && kills < KILLS; k++) {
    const run = startCli(args, env);
    const startedAt = Date.now();
    // Each rerun has less left to do: later kills of a round come sooner.
    const delay = 200 + random() * duration[kind] * (1 - k / KILLS_PER_ROUND);
    const timer = new Promise<'kill'>((resolve) => setTimeout(() => resolve('kill'), delay));
    const outcome = await Promise.race([run.done, timer]);
    if (outcome !== 'kill') {
      // Finished first: runs of this kind are shorter than thought, and this round's work is done.
      missed++;
      if (k === 0) duration[kind] = Math.max(1000, Math.min(duration[kind], Date.now() - startedAt));
      break;
    }
    const inFlight = proxy.inFlight();
    run.child.kill('SIGKILL');
    await run.done;
    kills++;
    classify(inFlight, await recentlyWritten(kind, target, state, Date.now()));
  }
  const started = Date.now();
  let last: CliRun | undefined;
  for (let t = 0; t < FINAL_TRIES && last?.code !== 0; t++) last = await runCli(args, env);
  if (last?.code !== 0) failures.push(`round ${r} ${kind}: the reruns did not finish: exit ${last?.code}: ${last?.stderr.trim().split('\n').pop()}`);
  // A rerun from scratch is the longest a run of this kind takes: the next kills spread over it.
  if (r < KINDS.length) duration[kind] = Math.max(duration[kind], Date.now() - started);
  const diff = await compare(kind, target, source);
  if (!diff.equal || diff.duplicates > 0) failures.push(`round ${r} ${kind}: ${diff.missing} missing, ${diff.extra} extra, ${diff.duplicates} duplicates\n  ${diff.details.slice(0, 5).join('\n  ')}`);
  if (kind !== 'migrate' && kind !== 'restore') {
    const partial = (await walk(target)).filter((f) => f.type === 'file' && (/\/tmp\/[^/]+$/.test(f.path) || /\.tmp-\d+$/.test(f.path)));
    if (partial.length > 0) failures.push(`round ${r} ${kind}: partial files left: ${partial.map((f) => f.path).join(', ')}`);
    if (kind === 'backup-maildir' && diff.equal) lastMaildir = target;
  }
  console.log(`soak: round ${r} ${kind}: ${kills}/${KILLS} kills so far, ${diff.equal ? 'equal' : 'DIFFERENT'}`);
}

function runArgs(kind: Kind, target: string, state: string): string[] {
  switch (kind) {
    case 'migrate':
      return ['migrate', '--from', url('src'), '--to', url(target), '--state', state, '--quiet'];
    case 'restore':
      return ['restore', '--from', lastMaildir!, '--to', url(target), '--state', state, '--quiet'];
    default:
      return ['backup', '--from', url('src'), '--to', target, '--format', kind === 'backup-mbox' ? 'mbox' : 'maildir', '--quiet'];
  }
}

async function compare(kind: Kind, target: string, source: Snapshot): Promise<SnapshotDiff> {
  if (kind === 'migrate' || kind === 'restore') return diffSnapshots(source, await snapshotAccount(addr(target)));
  const diff = diffSnapshots(source, await snapshotBackup(target));
  if (kind !== 'backup-mbox') return diff;
  const reader = diffSnapshots(source, await snapshotMboxFiles(target));
  return { ...diff, equal: diff.equal && reader.equal, duplicates: diff.duplicates + reader.duplicates, details: [...diff.details, ...reader.details] };
}

/**
 * What the kill interrupted. APPEND and FETCH: commands the proxy had sent on without their answer
 * yet. A journal commit and a file write are read from the files (an approximation): the
 * checkpoint's WAL, or a backup file, changed within RECENT_MS of the kill, or a Maildir message
 * left in `tmp/` (written but not yet moved into `cur/`).
 */
function classify(inFlight: string[], written: { journal: boolean; file: boolean }): void {
  let any = false;
  const count = (what: keyof typeof hits, yes: boolean): void => {
    if (!yes) return;
    hits[what]++;
    any = true;
  };
  count('APPEND', inFlight.some((c) => c.endsWith('APPEND')));
  count('FETCH', inFlight.some((c) => c.endsWith('FETCH')));
  count('journal commit', written.journal);
  count('file write', written.file);
  if (!any) hits['none of these']++;
}

async function recentlyWritten(kind: Kind, target: string, state: string, killedAt: number): Promise<{ journal: boolean; file: boolean }> {
  const recent = async (file: string): Promise<boolean> => {
    const st = await fs.stat(file).catch(() => undefined);
    return !!st && killedAt - st.mtimeMs < RECENT_MS;
  };
  // A backup keeps its checkpoint inside the backup directory.
  const journals = kind === 'migrate' || kind === 'restore' ? [`${state}-wal`] : (await walk(target).catch(() => [])).map((f) => f.path).filter((p) => p.endsWith('.sqlite-wal'));
  const journal = (await Promise.all(journals.map(recent))).some(Boolean);
  if (kind === 'migrate' || kind === 'restore') return { journal, file: false };
  const files = (await walk(target).catch(() => [])).filter((f) => f.type === 'file' && !f.path.includes('.sqlite'));
  const inTmp = files.some((f) => /\/tmp\/[^/]+$/.test(f.path));
  return { journal, file: inTmp || (await Promise.all(files.map((f) => recent(f.path)))).some(Boolean) };
}

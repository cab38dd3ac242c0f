// The large account's reruns, alone (issue #17): a private Dovecot with bench/corpora.ts's LARGE
// (200,000 text messages in 100 folders; BENCH_LARGE_MESSAGES for a smoke size) loaded by the
// Maildir fast path, one full `migrate --connections 4` over TLS under GNU time, then RUNS
// no-change reruns and RUNS reruns after new-mail.ts's 100 new messages in 10 folders (taken out
// again after each, and the no-change run that follows a removal is not counted: the EXPUNGE
// changed HIGHESTMODSEQ). Prints wall s, client CPU s and peak RSS of each run, with the load.
//
//   npm run build && node --import tsx bench/large-reruns.ts [RUNS, default 3]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDovecot } from '../src/sandbox/dovecot-server.js';
import { LARGE } from './corpora.js';
import { loadCorpora } from './maildir-loader.js';
import { prepareNewMail } from './new-mail.js';
import { PASSWORD } from './tool.js';

const MAILFERRY = fileURLToPath(new URL('../dist/bin/main.js', import.meta.url));
const RUNS = Number(process.argv[2] ?? 3);
const work = await mkdtemp(join(tmpdir(), 'mailferry-reruns-'));
const server = await startDovecot({ users: [LARGE.user, 'dst'].map((name) => ({ name, password: PASSWORD })) });
try {
  await loadCorpora(server, [LARGE]);
  const account = (user: string): string => `imaps://${user}@${server.host}:${server.tlsPort}`;
  const argv = ['migrate', '--from', account(LARGE.user), '--to', account('dst'), '--from-ca', server.caFile, '--to-ca', server.caFile, '--state', join(work, 'state.sqlite'), '--connections', '4', '--quiet', '--json'];
  const run = async (label: string): Promise<void> => {
    const load = loadavg()[0]!.toFixed(1);
    const m = await measure(argv, join(work, 'run.time'));
    console.log(`${label}: ${m.seconds} s wall, ${m.cpu} s client CPU, peak RSS ${m.peakMb} MB, copied ${m.copied}, rc ${m.rc}, load ${load}`);
  };
  await run(`full (${LARGE.name})`);
  for (let i = 1; i <= RUNS; i++) await run(`no-change rerun ${i}`);
  for (let i = 1; i <= RUNS; i++) {
    const mail = await prepareNewMail(server, LARGE);
    try {
      await mail.add();
      await run(`rerun after 100 new messages ${i}`);
    } finally {
      await mail.remove();
    }
    await run('(after the removal, not counted)');
  }
} finally {
  await server.stop();
  await rm(work, { recursive: true, force: true });
}

async function measure(args: string[], timeFile: string): Promise<{ peakMb: number; seconds: string; cpu: string; rc: number; copied: string }> {
  const env = { ...process.env, MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
  const child = spawn('/usr/bin/time', ['-v', '-o', timeFile, process.execPath, MAILFERRY, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const rc = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const time = await readFile(timeFile, 'utf8');
  const field = (name: string): string => new RegExp(`${name}: (.*)`).exec(time)?.[1] ?? '?';
  const wall = /(?:(\d+):)?(\d+):([\d.]+)/.exec(field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)'));
  const seconds = wall ? (Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3])).toFixed(2) : '?';
  let copied = '?';
  try {
    copied = String((JSON.parse(stdout) as { totals: { copied: number } }).totals.copied);
  } catch {
    copied = `unparsed: ${stdout.slice(0, 200)}`;
  }
  return { peakMb: Math.round(Number(field('Maximum resident set size \\(kbytes\\)')) / 1024), seconds, cpu: (Number(field('User time \\(seconds\\)')) + Number(field('System time \\(seconds\\)'))).toFixed(2), rc, copied };
}

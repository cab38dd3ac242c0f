// Peak RSS of mailferry's rows, one command at a time (issue #17's memory target): a private
// Dovecot with the bench's 5k corpus, then each row under GNU time, which reports the client's
// maximum resident set. Memory does not depend on the machine's load the way time does, so one
// run per row is a figure.
//
//   npm run build && node --import tsx bench/memory.ts [row ...]
//
// Rows: migrate-1, migrate-4, backup-maildir, backup-mbox, restore (from backup-maildir's
// directory, so after it), and text-5k, text-200k (migrate, 4 connections), which load their own
// text corpora (200k takes long). Default: the five 5k rows. Every row runs over TLS (imaps).
// MEMORY_DEBUG=1 passes MAILFERRY_DEBUG_MEMORY=1 to the runs (their memory peaks by kind).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDovecot } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, type CorpusOptions } from '../src/sandbox/corpus.js';
import { MAIN, type BenchCorpus } from './corpora.js';
import { loadCorpora } from './maildir-loader.js';

const MAILFERRY = fileURLToPath(new URL('../dist/bin/main.js', import.meta.url));
const PASSWORD = 'memory-password';
const corpus = (name: string, user: string, options: CorpusOptions): BenchCorpus => ({ name, user, options, folders: corpusFolders(options).map((f) => f.path) });
const TEXT_5K = corpus('5k text', 'text5k', { seed: 50_000, messages: 5_000, folders: 20, maxSize: 1_000_000, textHeavy: true });
const TEXT_200K = corpus('200k text', 'text200k', { seed: 50_000, messages: 200_000, folders: 100, maxSize: 1_000_000, textHeavy: true });

const rows = process.argv.slice(2);
const wanted = rows.length > 0 ? rows : ['migrate-1', 'migrate-4', 'backup-maildir', 'backup-mbox', 'restore'];
const corpora: BenchCorpus[] = wanted.some((r) => !r.startsWith('text-')) ? [MAIN] : [];
if (wanted.includes('text-5k')) corpora.push(TEXT_5K);
if (wanted.includes('text-200k')) corpora.push(TEXT_200K);

const work = await mkdtemp(join(tmpdir(), 'mailferry-memory-'));
const server = await startDovecot({ users: [...corpora.map((c) => ({ name: c.user, password: PASSWORD })), ...wanted.map((r) => ({ name: `dst-${r}`, password: PASSWORD }))] });
try {
  const started = Date.now();
  await loadCorpora(server, corpora);
  console.log(`loaded ${corpora.map((c) => c.name).join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const account = (user: string): string => `imaps://${user}@${server.host}:${server.tlsPort}`;
  const tls = ['--from-ca', server.caFile, '--to-ca', server.caFile];
  const backupDir = join(work, 'backup-maildir');
  for (const row of wanted) {
    const dest = account(`dst-${row}`);
    const common = ['--state', join(work, `${row}.sqlite`), '--quiet', '--json'];
    const args: Record<string, string[]> = {
      'migrate-1': ['migrate', '--from', account(MAIN.user), '--to', dest, ...tls, ...common, '--connections', '1'],
      'migrate-4': ['migrate', '--from', account(MAIN.user), '--to', dest, ...tls, ...common, '--connections', '4'],
      'backup-maildir': ['backup', '--from', account(MAIN.user), '--from-ca', server.caFile, '--to', backupDir, '--format', 'maildir', '--connections', '4', '--quiet', '--json'],
      'backup-mbox': ['backup', '--from', account(MAIN.user), '--from-ca', server.caFile, '--to', join(work, 'backup-mbox'), '--format', 'mbox', '--connections', '4', '--quiet', '--json'],
      // From the Maildir backup: run backup-maildir before it.
      restore: ['restore', '--from', backupDir, '--to', dest, '--to-ca', server.caFile, '--connections', '4', '--quiet', '--json'],
      'text-5k': ['migrate', '--from', account(TEXT_5K.user), '--to', dest, ...tls, ...common, '--connections', '4'],
      'text-200k': ['migrate', '--from', account(TEXT_200K.user), '--to', dest, ...tls, ...common, '--connections', '4'],
    };
    const argv = args[row];
    if (!argv) throw new Error(`unknown row ${row}`);
    const { peakMb, seconds, cpu, rc, copied } = await measure(argv, join(work, `${row}.time`));
    console.log(`${row}: peak RSS ${peakMb} MB, ${seconds} s wall, ${cpu} s CPU (user+sys), copied ${copied}, rc ${rc}  (dist/bin/main.js ${argv.slice(0, 1).join(' ')} ... ${row})`);
  }
} finally {
  await server.stop();
  await rm(work, { recursive: true, force: true });
}

async function measure(argv: string[], timeFile: string): Promise<{ peakMb: number; seconds: string; cpu: string; rc: number; copied: number | string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
  if (process.env.MEMORY_DEBUG) env.MAILFERRY_DEBUG_MEMORY = '1';
  const child = spawn('/usr/bin/time', ['-v', '-o', timeFile, MAILFERRY, ...argv], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const rc = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const time = await readFile(timeFile, 'utf8');
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(time)?.[1]);
  const wall = /Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)/.exec(time);
  const seconds = wall ? (Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3])).toFixed(2) : '?';
  const cpu = (Number(/User time \(seconds\): ([\d.]+)/.exec(time)?.[1]) + Number(/System time \(seconds\): ([\d.]+)/.exec(time)?.[1])).toFixed(2);
  let copied: number | string = '?';
  try {
    copied = (JSON.parse(stdout) as { totals: { copied: number } }).totals.copied;
  } catch {
    copied = `unparsed: ${stdout.slice(0, 200)}`;
  }
  return { peakMb: Math.round(kb / 1024), seconds, cpu, rc, copied };
}

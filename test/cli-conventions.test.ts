import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { MAIN, runCli, type CliRun } from './support/cli.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';

/** How mailferry behaves as a Unix command: pipes, -q, option values, unknown commands, wide text. */

const PASSWORD = 'pw-Conventions-7';
const USERS = ['src', 'pipe', 'quiet', 'restored', 'dash', 'bars'];
let server: DovecotServer;
const work = mkdtempSync(join(tmpdir(), 'mf-conventions-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;

/** Folder names as users have them: wide (CJK, emoji), and one that reads like an option. */
const FOLDERS = ['INBOX', '-dash', '日本語のフォルダ', '請求書', '📨 Mail bag', 'Plain'];

function migrateArgs(to: string, extra: string[] = []): string[] {
  return ['migrate', '--from', url('src'), '--to', url(to), '--from-ca', server.caFile, '--to-ca', server.caFile, '--state', join(work, `${to}.sqlite`), ...extra];
}

/** Runs mailferry with its stdout and/or stderr pipe closed by the reader before anything is written. */
function runWithClosedPipe(args: string[], close: Array<'stdout' | 'stderr'>): Promise<CliRun> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  for (const name of ['stdout', 'stderr'] as const) {
    if (close.includes(name)) child[name]!.destroy();
    else child[name]!.on('data', (d: Buffer) => (name === 'stdout' ? (stdout += d) : (stderr += d)));
  }
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

async function expectSameAccounts(a: string, b: string): Promise<void> {
  const diff = diffSnapshots(await snapshotAccount(addr(a)), await snapshotAccount(addr(b)));
  expect(diff.details).toEqual([]);
  expect(diff.equal).toBe(true);
}

beforeAll(async () => {
  server = await startDovecot({ users: USERS.map((name) => ({ name, password: PASSWORD })) });
  const messages = [...generateCorpus({ seed: 71, messages: 120, maxSize: 200_000 })].map((m, i) => ({ ...m, folder: FOLDERS[i % FOLDERS.length]! }));
  await seedAccount(addr('src'), messages, { folders: FOLDERS.map((path) => ({ path })) });
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('a closed pipe ends a command quietly, with the status it would have had', () => {
  it('profiles --json whose reader is gone exits 0 without a word on stderr', async () => {
    const run = await runWithClosedPipe(['profiles', '--json'], ['stdout']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('--help whose reader is gone exits 0 without a word on stderr', async () => {
    const run = await runWithClosedPipe(['migrate', '--help'], ['stdout']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('an error message to a closed stderr still ends with its exit status', async () => {
    const run = await runWithClosedPipe(['migrate', '--from', url('src')], ['stderr']);
    expect(run.code).toBe(2);
  });

  it('migrate --json whose reader is gone finishes the copy and exits 0', async () => {
    const run = await runWithClosedPipe(migrateArgs('pipe', ['--json']), ['stdout', 'stderr']);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    await expectSameAccounts('src', 'pipe');
  });
});

describe('-q/--quiet is silent on a good run of every copying command', () => {
  it('migrate -q prints nothing; a rerun -q --json prints only the JSON document', async () => {
    const run = await runCli(migrateArgs('quiet', ['-q']), env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('');
    await expectSameAccounts('src', 'quiet');

    const json = await runCli(migrateArgs('quiet', ['--quiet', '--json']), env);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout).totals).toMatchObject({ copied: 0, failed: 0 });
  });

  it('backup -q and restore -q print nothing', async () => {
    const dir = join(work, 'backup-quiet');
    const backup = await runCli(['backup', '--from', url('src'), '--from-ca', server.caFile, '--to', dir, '-q'], env);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toBe('');
    expect(backup.stderr).toBe('');

    const restore = await runCli(['restore', '--from', dir, '--to', url('restored'), '--to-ca', server.caFile, '--state', join(work, 'restore.sqlite'), '-q'], env);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toBe('');
    expect(restore.stderr).toBe('');
    await expectSameAccounts('src', 'restored');
  });
});

describe('an option that takes a value takes the next word, whatever it starts with', () => {
  it('migrate --folder -dash copies exactly the folder named -dash', async () => {
    const run = await runCli(migrateArgs('dash', ['--folder', '-dash', '--json']), env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.folders.map((f: { source: string }) => f.source)).toEqual(['-dash']);
    expect(summary.totals.copied).toBe(120 / FOLDERS.length);
    const diff = diffSnapshots(await snapshotAccount(addr('src'), { folders: ['-dash'] }), await snapshotAccount(addr('dash'), { folders: ['-dash'] }));
    expect(diff.details).toEqual([]);
  });

  it('folders --exclude -dash leaves that folder out of the listing', async () => {
    const run = await runCli(['folders', '--from', url('src'), '--from-ca', server.caFile, '--to', url('dash'), '--to-ca', server.caFile, '--exclude', '-dash', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const names = JSON.parse(run.stdout).folders.map((f: { name: string }) => f.name);
    expect(names).toContain('Plain');
    expect(names).not.toContain('-dash');
  });
});

describe('an unknown command is a usage error', () => {
  it.each([[['NOSUCHCOMMAND', '--help']], [['NOSUCHCOMMAND']], [['--help', 'NOSUCHCOMMAND']]])('mailferry %j exits 2 and names it', async (args) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command: NOSUCHCOMMAND/);
    expect(run.stdout).toBe('');
  });
});

describe('folders lines up its columns by display width', () => {
  /** Display columns where each cell of a line starts (cells are separated by two or more spaces). */
  const cellStarts = (line: string): number[] => [...line.matchAll(/\S+(?: \S+)*/g)].map((m) => stringWidth(line.slice(0, m.index)));

  it('with Japanese and emoji folder names, every cell starts under its heading', async () => {
    const run = await runCli(['folders', '--from', url('src'), '--from-ca', server.caFile], env);
    expect(run.code).toBe(0);
    const [header, ...rest] = run.stdout.trimEnd().split('\n');
    const rows = rest.slice(0, -1);
    const headings = cellStarts(header!);
    expect(header).toMatch(/^folder +use +subscribed +messages +size$/);
    for (const name of FOLDERS) expect(rows.some((r) => r.startsWith(`${name} `))).toBe(true);
    for (const row of rows) {
      const starts = cellStarts(row);
      expect(starts.every((s) => headings.includes(s)), row).toBe(true);
      // messages and size are always the last two cells
      expect(starts.slice(-2), row).toEqual(headings.slice(-2));
    }
    expect(rest.at(-1)).toMatch(new RegExp(`^${FOLDERS.length + 5} folders, 120 messages at `));
  });

  it('says "1 folder" for one', async () => {
    const run = await runCli(['folders', '--from', url('src'), '--from-ca', server.caFile, '--to', url('dash'), '--to-ca', server.caFile, '--folder', 'Plain'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^1 folder, 20 messages at /m);
  });
});

describe('the progress bars line up by display width', () => {
  it('on a terminal, every folder bar starts after a 24-cell name column, Japanese and emoji names too', async () => {
    // script(1) gives the run a terminal; the rate limit keeps the bars on screen long enough to be drawn.
    const command = [process.execPath, MAIN, ...migrateArgs('bars', ['--max-messages-per-second', '30', '--connections', '2'])].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const { stdout } = await promisify(execFile)('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env, COLUMNS: '160', LINES: '40' }, maxBuffer: 64 << 20 });
    // eslint-disable-next-line no-control-regex
    const screen = stdout.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').split(/\r|\n/);
    const bars = screen.filter((line) => /^.* \[[█░]+\] \d+\/\d+/.test(line));
    const drawn = new Set<string>();
    for (const line of bars) {
      const name = line.slice(0, line.indexOf(' ['));
      expect(stringWidth(name), line).toBe(24);
      drawn.add(name.trim());
    }
    expect([...drawn]).toEqual(expect.arrayContaining(['日本語のフォルダ', '📨 Mail bag']));
    await expectSameAccounts('src', 'bars');
  });
});

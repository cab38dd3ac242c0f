import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { runCli, type CliRun } from './support/cli.js';

/**
 * `--log-file FILE` and `mailferry run`'s dated logs (issue 13, item 5): JSON lines telling what
 * the terminal would have told, with the run's events and its summary, and never a secret.
 */

const run = promisify(execFile);
/** The canary: the accounts' password, which the server also echoes back as a folder's name. */
const PASSWORD = 'pw-Canary-Log-5q';
const WRONG_PASSWORD = 'wrong-Canary-Log-7z';
const CANARIES = [PASSWORD, WRONG_PASSWORD, ...[PASSWORD, WRONG_PASSWORD].map((p) => Buffer.from(p).toString('base64'))];
const ROOT = process.getuid?.() === 0;
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-log-file-'));
const at = (name: string): string => path.join(work, name);
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string): string => `imap://${user}@${server.host}:${server.port}`;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
const mounts: string[] = [];

function migrateArgs(to: string, state: string, extra: string[]): string[] {
  return ['migrate', '--from', url('src'), '--from-ca', server.caFile, '--to', url(to), '--to-ca', server.caFile, '--state', at(state), ...extra];
}

/** Every line of the log, parsed: a line that is not JSON fails here. */
async function logLines(file: string): Promise<any[]> {
  const text = await fs.readFile(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((line) => JSON.parse(line));
}

async function expectNoCanary(file: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  for (const canary of CANARIES) expect(text).not.toContain(canary);
}

const mode = async (file: string): Promise<string> => ((await fs.stat(file)).mode & 0o777).toString(8);

/** A refusal as the rules want it: one line on stderr, no stack trace. */
function expectOneLine(result: CliRun, status: number, message: RegExp): void {
  expect(result.code, result.stderr).toBe(status);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
}

/** `YYYY-MM-DD` of the local day `days` after today (negative: before). */
function day(days: number): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** A directory made read-only by a read-only bind mount (as root; chmod does not stop root). */
async function readOnlyDir(name: string): Promise<string> {
  const dir = at(name);
  await fs.mkdir(dir, { recursive: true });
  await run('mount', ['--bind', dir, dir]);
  mounts.push(dir);
  await run('mount', ['-o', 'remount,bind,ro', dir]);
  return dir;
}

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'dst', 'dst2', 'dst3', 'dst4'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 51, messages: 40, folders: 3 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  const client = await connectPlain(addr('src'));
  try {
    await client.mailboxCreate(PASSWORD);
    await client.append(PASSWORD, 'From: a@example.org\r\nSubject: echo\r\n\r\nbody\r\n');
  } finally {
    await client.logout();
  }
}, 300_000);

afterAll(async () => {
  for (const dir of mounts.reverse()) await run('umount', [dir]).catch(() => undefined);
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('--log-file FILE', () => {
  it('writes JSON lines (0600): the debug conversation, each folder started and done, the batches, and last the summary with the exit code; no password', async () => {
    const file = at('migrate.jsonl');
    const result = await runCli(migrateArgs('dst', 'migrate.sqlite', ['--log-file', file, '--debug']), env);
    expect(result.code, result.stderr).toBe(0);
    expect(await mode(file)).toBe('600');
    const lines = await logLines(file);
    for (const line of lines) {
      expect(new Date(line.time).toISOString()).toBe(line.time);
      expect(line.level !== undefined || line.event !== undefined).toBe(true);
    }
    expect(lines.some((l) => l.level === 'debug' && /AUTHENTICATE|LOGIN/.test(l.message))).toBe(true);
    const started = lines.filter((l) => l.event === 'folder-start').map((l) => l.source);
    const done = lines.filter((l) => l.event === 'folder-done');
    expect(done.map((l) => l.source).sort()).toEqual([...new Set(started)].sort());
    expect(done.reduce((n, l) => n + l.copied, 0)).toBe(41);
    expect(lines.filter((l) => l.event === 'progress').reduce((n, l) => n + l.messages, 0)).toBe(41);
    // The folder named like the password is in the log, redacted wherever its name appears.
    expect(done.map((l) => l.source)).toContain('[redacted]');
    const summary = lines.at(-1);
    expect(summary).toMatchObject({ event: 'summary', command: 'migrate', exitCode: 0, totals: { copied: 41, failed: 0 } });
    await expectNoCanary(file);
  }, 120_000);

  it('a run that cannot log in logs the failure line and a summary with exit code 3, no password; a second run appends', async () => {
    const file = at('migrate.jsonl');
    const before = (await logLines(file)).length;
    const result = await runCli(migrateArgs('dst2', 'wrong.sqlite', ['--log-file', file, '--debug', '--quiet']), { ...env, MAILFERRY_TO_PASSWORD: WRONG_PASSWORD });
    expect(result.code, result.stderr).toBe(3);
    const all = await logLines(file);
    expect(all[before - 1]).toMatchObject({ event: 'summary', exitCode: 0 });
    const lines = all.slice(before);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([expect.stringMatching(/^cannot log in to imap:\/\/dst2@.*authentication failed/)]);
    expect(lines.at(-1)).toMatchObject({ event: 'summary', exitCode: 3, error: expect.stringMatching(/cannot log in/) });
    await expectNoCanary(file);
  }, 120_000);

  it('verify and backup log their summaries too', async () => {
    const file = at('others.jsonl');
    const verify = await runCli(['verify', '--from', url('src'), '--from-ca', server.caFile, '--to', url('dst'), '--to-ca', server.caFile, '--log-file', file, '--quiet'], env);
    expect(verify.code, verify.stderr).toBe(0);
    const backup = await runCli(['backup', '--from', url('src'), '--from-ca', server.caFile, '--to', at('backup'), '--log-file', file, '--quiet', '--folder', 'INBOX'], env);
    expect(backup.code, backup.stderr).toBe(0);
    const summaries = (await logLines(file)).filter((l) => l.event === 'summary');
    expect(summaries).toMatchObject([
      { equal: true, exitCode: 0 },
      { command: 'backup', exitCode: 0, totals: { copied: expect.any(Number) } },
    ]);
    await expectNoCanary(file);
  }, 120_000);

  it('in a directory that does not exist: one line, exit 2, before anything starts', async () => {
    const state = at('never.sqlite');
    const result = await runCli(migrateArgs('dst3', 'never.sqlite', ['--log-file', at('no/such/dir/log.jsonl')]), env);
    expectOneLine(result, 2, /^error: cannot write the log .*no\/such\/dir\/log\.jsonl: there is no directory .*no\/such\/dir$/);
    await expect(fs.stat(state)).rejects.toThrow(/ENOENT/);
  });

  it.skipIf(!ROOT)('in a read-only directory: one line, exit 7, before anything starts', async () => {
    const dir = await readOnlyDir('read-only');
    const result = await runCli(migrateArgs('dst3', 'never.sqlite', ['--log-file', path.join(dir, 'log.jsonl')]), env);
    expectOneLine(result, 7, /^error: cannot write the log .*read-only\/log\.jsonl: the file system is read-only/);
    await expect(fs.stat(at('never.sqlite'))).rejects.toThrow(/ENOENT/);
  });
});

describe('mailferry run: dated logs under the state directory', () => {
  const stateHome = at('state');
  const jobDir = path.join(stateHome, 'mailferry', 'logs', 'nightly');
  const runEnv = { DEST_PW: PASSWORD, XDG_STATE_HOME: stateHome };

  beforeAll(async () => {
    await fs.writeFile(
      at('jobs.yaml'),
      `accounts:
  old:
    url: ${url('src')}
    ca: ${server.caFile}
    password-env: DEST_PW
  new:
    url: ${url('dst4')}
    ca: ${server.caFile}
    password-env: DEST_PW
jobs:
  nightly:
    command: migrate
    from: old
    to: new
    state: ${at('nightly.sqlite')}
`,
      { mode: 0o600 },
    );
  });

  it("appends each run to today's file (0600 in a 0700 directory) and removes the files older than --log-keep days", async () => {
    const first = await runCli(['run', '--config', at('jobs.yaml'), '--quiet'], runEnv);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe('');
    expect(await mode(jobDir)).toBe('700');
    await fs.writeFile(path.join(jobDir, `${day(-3)}.jsonl`), '{}\n');
    await fs.writeFile(path.join(jobDir, `${day(-2)}.jsonl`), '{}\n');
    const second = await runCli(['run', '--config', at('jobs.yaml'), '--quiet', '--log-keep', '3'], runEnv);
    expect(second.code, second.stderr).toBe(0);
    expect((await fs.readdir(jobDir)).sort()).toEqual([`${day(-2)}.jsonl`, `${day(0)}.jsonl`]);
    const today = path.join(jobDir, `${day(0)}.jsonl`);
    expect(await mode(today)).toBe('600');
    const lines = await logLines(today);
    // --quiet kept stderr silent; the log has the info lines all the same.
    expect(lines.filter((l) => l.level === 'info' && /^job nightly: .*mailferry migrate /.test(l.message))).toHaveLength(2);
    expect(lines.filter((l) => l.event === 'summary')).toMatchObject([
      { command: 'migrate', exitCode: 0, totals: { copied: 41 } },
      { command: 'migrate', exitCode: 0, totals: { copied: 0 } },
    ]);
    expect(lines.at(-1).event).toBe('summary');
    await expectNoCanary(today);
  }, 120_000);

  it('run --log-file in a directory that does not exist: one line, exit 2, no job run', async () => {
    const result = await runCli(['run', '--config', at('jobs.yaml'), '--log-file', at('nowhere/run.jsonl')], runEnv);
    expectOneLine(result, 2, /^error: cannot write the log .*nowhere\/run\.jsonl: there is no directory/);
  });

  it.skipIf(!ROOT)('a read-only state directory fails the job with one line naming it, exit 7', async () => {
    const dir = await readOnlyDir('read-only-state');
    const result = await runCli(['run', '--config', at('jobs.yaml')], { ...runEnv, XDG_STATE_HOME: dir });
    expectOneLine(result, 7, /^error: job nightly: cannot write the log directory .*read-only-state\/mailferry\/logs\/nightly: the file system is read-only/);
  });
});

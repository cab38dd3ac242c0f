import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { snapshotBackup } from './support/backup-snapshot.js';
import { runCli, type CliRun } from './support/cli.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';

const SOURCE_PASSWORD = 'pw-Config-Src-7';
const DEST_PASSWORD = 'pw-Config-Dst-8';
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-config-'));
const file = (name: string): string => path.join(work, name);
const addr = (user: string, password: string) => ({ host: server.host, port: server.port, user, password });
/** The destination's password is read from this variable, as the account's password-env says. */
const env = { DEST_PW: DEST_PASSWORD, XDG_CONFIG_HOME: file('xdg') };

function expectSame(expected: Snapshot, actual: Snapshot): void {
  const diff = diffSnapshots(expected, actual);
  expect(diff.details).toEqual([]);
  expect(diff.equal).toBe(true);
}

function expectNoSecret(run: CliRun): void {
  for (const secret of [SOURCE_PASSWORD, DEST_PASSWORD]) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

/** Two accounts (the source's password from a command, the destination's from a variable) and two jobs. */
function jobFile(): string {
  const url = (user: string): string => `imap://${user}@${server.host}:${server.port}`;
  return `accounts:
  old:
    url: ${url('src')}
    ca: ${server.caFile}
    password-command: cat ${file('src.password')}
  new:
    url: ${url('dst')}
    ca: ${server.caFile}
    password-env: DEST_PW
jobs:
  move:
    command: migrate
    from: old
    to: new
    state: ${file('move.sqlite')}
  keep:
    command: backup
    from: old
    to: ${file('backup')}
    format: maildir
`;
}

/** The --json documents of a run, one per job, one after another. */
const summaries = (run: CliRun): any[] => run.stdout.trim().split(/\n(?=\{)/).map((doc) => JSON.parse(doc));
const transferred = (run: CliRun): number[] => summaries(run).map((s) => s.totals.copied);

beforeAll(async () => {
  server = await startDovecot({ users: [{ name: 'src', password: SOURCE_PASSWORD }, { name: 'dst', password: DEST_PASSWORD }] });
  const opts = { seed: 41, messages: 120, folders: 5 };
  await seedAccount(addr('src', SOURCE_PASSWORD), generateCorpus(opts), { folders: corpusFolders(opts) });
  await fs.writeFile(file('src.password'), SOURCE_PASSWORD + '\n', { mode: 0o600 });
  await fs.writeFile(file('jobs.yaml'), jobFile(), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('mailferry run', () => {
  it('runs every job in file order: the migrate leaves the destination equal to the source, the backup holds every message', async () => {
    const run = await runCli(['run', '--config', file('jobs.yaml'), '--json'], env);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(transferred(run)).toEqual([120, 120]);
    expect(run.stderr).toMatch(/job move: .*job keep: /s);
    const source = await snapshotAccount(addr('src', SOURCE_PASSWORD));
    expectSame(source, await snapshotAccount(addr('dst', DEST_PASSWORD)));
    expectSame(source, await snapshotBackup(file('backup')));
    expectNoSecret(run);
  }, 180_000);

  it('runs only the job named, and a rerun copies nothing', async () => {
    const run = await runCli(['run', 'keep', '--config', file('jobs.yaml'), '--json'], env);
    expect(run.code).toBe(0);
    expect(transferred(run)).toEqual([0]);
    expect(run.stderr).not.toContain('job move');
    const both = await runCli(['run', '--config', file('jobs.yaml'), '--json'], env);
    expect(both.code).toBe(0);
    expect(transferred(both)).toEqual([0, 0]);
    expectNoSecret(both);
  }, 180_000);

  it('exits with the worst status of the jobs, and still runs the others', async () => {
    const run = await runCli(['run', 'move', 'keep', '--config', file('jobs.yaml'), '--json'], { ...env, DEST_PW: 'wrong-password' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/error: job move: /);
    expect(summaries(run)).toMatchObject([
      { command: 'migrate', exitCode: 3 },
      { command: 'backup', exitCode: 0, totals: { copied: 0, failed: 0 } },
    ]);
  }, 180_000);

  it('refuses a job name the file does not have, and runs nothing', async () => {
    const run = await runCli(['run', 'nosuchjob', '--config', file('jobs.yaml')], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no job named nosuchjob .* \(it has move, keep\)/);
  });
});

describe('mailferry config check', () => {
  it("prints each job's command line, with no secret in it", async () => {
    const run = await runCli(['config', 'check', '--config', file('jobs.yaml')], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`move: MAILFERRY_TO_PASSWORD="$DEST_PW" mailferry migrate --from imap://src@${server.host}:${server.port} --from-password-command 'cat ${file('src.password')}' --from-ca ${server.caFile} --to imap://dst@`);
    expect(run.stdout).toContain(`keep: mailferry backup --from imap://src@`);
    expectNoSecret(run);
  });

  it('reports every problem with its line, exits 2, and nothing runs', async () => {
    const bad = `accounts:
  old:
    url: imap://src@${server.host}:${server.port}
    ca: ${server.caFile}
    password: ${SOURCE_PASSWORD}
    allow-clear-password: true
jobs:
  keep:
    command: backup
    from: old
    to: ${file('not-made')}
    frobnicate: 3
  move:
    command: migrate
    from: old
    to: nowhere
`;
    await fs.writeFile(file('bad.yaml'), bad, { mode: 0o644 });
    await fs.chmod(file('bad.yaml'), 0o644);
    const check = await runCli(['config', 'check', '--config', file('bad.yaml')], env);
    expect(check.code).toBe(2);
    const problems = check.stderr.split('\n').filter((l) => l.includes(`${file('bad.yaml')}:`));
    expect(problems).toEqual([
      expect.stringMatching(/bad\.yaml:5: account old: a clear password in a file other users can read \(mode 644\)/),
      expect.stringMatching(/bad\.yaml:12: job keep: unknown option frobnicate/),
      expect.stringMatching(/bad\.yaml:16: job move: to: no account named nowhere/),
      expect.stringMatching(/bad\.yaml: 3 problems; nothing was run/),
    ]);
    expect(check.stdout).toBe('');
    expectNoSecret(check);
    const run = await runCli(['run', '--config', file('bad.yaml')], env);
    expect(run.code).toBe(2);
    await expect(fs.stat(file('not-made'))).rejects.toThrow(/ENOENT/);
  });
});

describe('mailferry config init', () => {
  it('writes a 0600 example that config check accepts, at the default place, and never overwrites it', async () => {
    const init = await runCli(['config', 'init'], env);
    expect(init.code).toBe(0);
    const written = file('xdg/mailferry/config.yaml');
    expect(((await fs.stat(written)).mode & 0o777).toString(8)).toBe('600');
    const check = await runCli(['config', 'check'], env);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^move: mailferry migrate .*\nnightly: mailferry backup /s);
    await fs.appendFile(written, '# edited\n');
    const again = await runCli(['config', 'init'], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(await fs.readFile(written, 'utf8')).toMatch(/# edited\n$/);
  });
});

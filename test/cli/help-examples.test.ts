import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/index.js';
import type { CliContext } from '../../src/cli/context.js';
import { corpusFolders, generateCorpus } from '../../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../../src/sandbox/dovecot-server.js';
import { startRedis, type RedisServer } from '../../src/sandbox/redis-server.js';
import { seedAccount } from '../../src/sandbox/seed.js';
import { MAIN, runCli, type CliRun } from '../support/cli.js';
import { FakeIdentityProvider } from '../support/fake-identity-provider.js';
import { withImapClient } from '../support/imap-client.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from '../support/oracle.js';

/**
 * Every example of every command's --help, run as shown by a shell (`mailferry` on PATH, $HOME a
 * temporary directory, the sandbox's passwords exported as `mailferry sandbox` prints them) with
 * the sandbox's URLs in place of the example's, and checked for what its text says it does.
 */

/** An example as a command's builder declares it (`.example(command, description)`). */
interface Example {
  command: string;
  example: string;
  description: string;
}

/** The examples of every command, from the commands' own yargs definitions. */
function declaredExamples(): Example[] {
  const examples: Example[] = [];
  for (const make of COMMANDS) {
    record(make({} as CliContext), []);
  }
  return examples;

  /** Records .example() of a command and of its subcommands (`bulk migrate`); every other builder call is chained through. */
  function record(module: CommandModule, parents: string[]): void {
    const command = [...parents, String(module.command).split(' ')[0]!].join(' ');
    const recorder: Argv = new Proxy({} as Argv, {
      get: (_, method) => (...args: unknown[]) => {
        if (method === 'example') examples.push({ command, example: String(args[0]), description: String(args[1]) });
        if (method === 'command' && typeof args[0] === 'object') record(args[0] as CommandModule, command.split(' '));
        return recorder;
      },
    });
    if (typeof module.builder === 'function') module.builder(recorder);
  }
}

const PASSWORD = 'pw-HelpExamples-3';
const work = mkdtempSync(join(tmpdir(), 'mf-help-examples-'));
const home = join(work, 'home');
const cwd = join(work, 'cwd');
const bin = join(work, 'bin');
let server: DovecotServer;
let idp: FakeIdentityProvider;
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const snapshot = (user: string): Promise<Snapshot> => snapshotAccount(addr(user));
const messages = (s: Snapshot): number => [...s.values()].reduce((n, t) => n + t.length, 0);

async function expectSame(expected: Snapshot, user: string, folderMap?: (f: string) => string): Promise<void> {
  const diff = diffSnapshots(expected, await snapshot(user), folderMap ? { folderMap } : {});
  expect(diff.details).toEqual([]);
  expect(messages(expected)).toBeGreaterThan(0);
}

/** `mailferry ARGS` as the test's own step (setting up what an example starts from). */
const mailferry = (args: string[], state = join(work, 'setup-state')): Promise<CliRun> =>
  runCli(args, { HOME: home, XDG_STATE_HOME: state, XDG_CONFIG_HOME: undefined, MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD });

interface Scenario {
  /** The account the example's source URL or `--from ...` stands for (default alice, seeded with sample mail). */
  from?: string;
  /** The account its destination URL or `--to ...` stands for: a fresh one per example. */
  to?: string;
  /** Arguments for a real service the example signs in to, in place of its endpoints (login). */
  endpoints?: () => string;
  /** Its own $XDG_STATE_HOME (checkpoints) unless it continues another's run. */
  state?: string;
  before?: () => Promise<void>;
  /** Other values of the sandbox's for the example's (a Redis URL). */
  rewrite?: (line: string) => string;
  /** While it runs: what a user does meanwhile (the browser part of a sign-in). */
  during?: (child: ChildProcess) => Promise<void>;
  check: (run: CliRun) => Promise<void> | void;
}

/** The sandbox's values for the example's: accounts, passwords, and paths outside the temporary home. */
function sandboxed(example: string, scenario: Scenario): string {
  const from = url(scenario.from ?? 'alice');
  const to = scenario.to ? url(scenario.to) : undefined;
  let line = example
    .replace(/\$0/g, 'mailferry')
    .replace(/\b(MAILFERRY_(?:FROM|TO)_PASSWORD)=\.\.\.(?=\s)/g, `$1=${PASSWORD}`)
    .replace(/--from (?:\.\.\.|imaps?:\/\/\S+)(?=\s|$)/g, `--from ${from}`)
    .replace(/--to (?:\.\.\.|imaps?:\/\/\S+)(?=\s|$)/g, () => `--to ${to ?? fail(`${example}: names a destination account; give its scenario one`)}`)
    .replace(/(['\s])\/(srv|etc)\//g, `$1${work}/$2/`);
  if (scenario.endpoints) line += ` ${scenario.endpoints()}`;
  return scenario.rewrite ? scenario.rewrite(line) : line;
}

function fail(message: string): never {
  throw new Error(message);
}

/** Runs one shell command line as a user types it. */
function shell(line: string, scenario: Scenario, state: string): Promise<CliRun> {
  const child = spawn('/bin/sh', ['-c', line], {
    cwd,
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      HOME: home,
      XDG_STATE_HOME: state,
      XDG_CONFIG_HOME: undefined,
      MAILFERRY_FROM_PASSWORD: PASSWORD,
      MAILFERRY_TO_PASSWORD: PASSWORD,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return Promise.all([done, scenario.during?.(child)]).then(([run]) => run);
}

const backupDir = join(home, 'mail-backup');
const archives = join(work, 'srv', 'archives');
const configFile = join(home, '.config', 'mailferry', 'config.yaml');
const today = new Date();
/** Alice's mail from the last year (`--since 1y`: the same day a year ago). */
const lastYear = Date.UTC(today.getUTCFullYear() - 1, today.getUTCMonth(), today.getUTCDate()) / 1000;
let alice: Snapshot;

/** The job file `config init` wrote, with the sandbox's accounts, a password file for alice's password command, and paths under the temporary directory. */
function sandboxedJobFile(text: string): string {
  const swaps: Array<[string, string]> = [
    ['url: imaps://alice%40old.example@imap.old.example', `url: ${url('alice')}`],
    ['url: imaps://alice@imap.new.example', `url: ${url('jobs-new')}`],
    ['password-command: pass show mail/old', `password-command: cat ${join(work, 'alice.password')}`],
    ['password-file: /home/alice/.config/mailferry/new.password', `password-file: ${join(work, 'new.password')}`],
    ['to: /srv/mail-backup/alice', `to: ${join(work, 'srv', 'mail-backup', 'alice')}`],
    ['archive: /srv/mail-archives/alice-{date}.tar.gz', `archive: ${join(work, 'srv', 'mail-archives', 'alice-{date}.tar.gz')}`],
  ];
  for (const [from, to] of swaps) {
    expect(text, 'the example job file changed: update this test').toContain(from);
    text = text.replace(from, to);
  }
  return text;
}

const archiveNamed = (dir: string, pattern: RegExp): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => pattern.test(f)) : []);
const DATED = /^mail-\d{4}-\d\d-\d\d\.tar\.gz$/;

/** Each example, by its exact text, with what it stands on and what it must do; run in this order. */
const SCENARIOS: Record<string, Scenario> = {
  'MAILFERRY_FROM_PASSWORD=... MAILFERRY_TO_PASSWORD=... $0 migrate --from imaps://alice%40old.example@imap.old.example --to imaps://alice@imap.new.example': {
    to: 'moved',
    check: () => expectSame(alice, 'moved'),
  },
  '$0 migrate --from ... --to ... --folder INBOX --since 2024-01-01 --dry-run': {
    to: 'previewed',
    check: async (run) => {
      expect(run.stdout).toMatch(/^dry run: .*\(nothing written\)\n {2}INBOX -> INBOX {2}\(\d+ messages\): would copy \d+/);
      expect(run.stdout.trim().split('\n')).toHaveLength(3);
      expect(messages(await snapshot('previewed'))).toBe(0);
    },
  },
  "$0 migrate --from ... --to ... --map '^Work/(.*)$=Old/$1' --since 1y": {
    to: 'mapped',
    check: async () => {
      const recent = new Map([...alice].map(([f, tuples]) => [f, tuples.filter((t) => t.internalDate >= lastYear)]));
      await expectSame(recent, 'mapped', (f) => f.replace(/^Work\/(.*)$/, 'Old/$1'));
      const folders = [...(await snapshot('mapped')).keys()];
      expect(folders).toContain('Old/Projects/2024');
      expect(folders.filter((f) => f.startsWith('Work/'))).toEqual([]);
    },
  },
  '$0 migrate --from ... --to ... --into Imported': {
    to: 'imported',
    check: () => expectSame(alice, 'imported', (f) => `Imported/${f}`),
  },
  '$0 migrate --from ... --to ... --check-login': {
    to: 'checked',
    check: (run) => {
      expect(run.stdout.match(/IMAP4rev1/g)).toHaveLength(2);
    },
  },
  '$0 migrate --from ... --to ... --propagate-deletes': {
    from: 'cutover',
    to: 'cutover-new',
    state: 'cutover',
    before: async () => {
      // The migration it is the cutover of, then a message deleted at the source since.
      expect((await mailferry(['migrate', '--from', url('cutover'), '--to', url('cutover-new'), '--quiet'], join(work, 'cutover'))).code).toBe(0);
      await withImapClient(addr('cutover'), async (c) => {
        await c.mailboxOpen('INBOX');
        await c.messageDelete('1', { uid: true });
      });
    },
    check: async (run) => {
      expect(run.stdout).toContain('INBOX -> INBOX: 0 copied, 1 removed');
      expect(diffSnapshots(await snapshot('cutover'), await snapshot('cutover-new')).details).toEqual([]);
    },
  },
  'MAILFERRY_FROM_PASSWORD=... $0 backup --from imaps://me@imap.example.com --to ~/mail-backup': {
    check: (run) => {
      expect(run.stdout).toContain(`backup: ${messages(alice)} copied`);
      expect(existsSync(join(backupDir, 'manifest.json'))).toBe(true);
    },
  },
  "$0 backup --from ... --to ~/mail-backup --archive '/srv/archives/mail-{date}.tar.gz' --keep 14": {
    check: (run) => {
      expect(run.stdout).toContain('backup: 0 copied');
      expect(archiveNamed(archives, DATED)).toHaveLength(1);
    },
  },
  'MAILFERRY_TO_PASSWORD=... $0 restore --from ~/mail-backup --to imaps://me@imap.new.example': {
    to: 'restored',
    check: () => expectSame(alice, 'restored'),
  },
  "$0 restore --from mail-2026-11-25.tar.gz --to ... --folder Work --recursive --into 'Restored/2026-11-25'": {
    to: 'from-archive',
    // The archive of that night, as the backup example writes it.
    before: async () => copyFileSync(join(archives, archiveNamed(archives, DATED)[0]!), join(cwd, 'mail-2026-11-25.tar.gz')),
    check: async () => {
      const work = new Map([...alice].filter(([f]) => f === 'Work' || f.startsWith('Work/')));
      await expectSame(work, 'from-archive', (f) => `Restored/2026-11-25/${f}`);
    },
  },
  '$0 restore --from Takeout/Mail/All\\ mail\\ Including\\ Spam\\ and\\ Trash.mbox --to ... --into Gmail': {
    to: 'takeout',
    // An mbox file where Takeout puts it: alice's INBOX, as a backup in mbox format writes it.
    before: async () => {
      const mbox = join(work, 'mbox-backup');
      expect((await mailferry(['backup', '--from', url('alice'), '--to', mbox, '--format', 'mbox', '--folder', 'INBOX', '--quiet'])).code).toBe(0);
      const file = join(cwd, 'Takeout', 'Mail', 'All mail Including Spam and Trash.mbox');
      mkdirSync(dirname(file), { recursive: true });
      copyFileSync(join(mbox, 'mbox', 'INBOX.mbox'), file);
    },
    check: async () => {
      const inbox = new Map([...alice].filter(([f]) => f === 'INBOX'));
      await expectSame(inbox, 'takeout', () => 'Gmail/All mail Including Spam and Trash');
    },
  },
  '$0 verify --from imaps://me@old.example --to imaps://me@new.example': {
    to: 'moved',
    check: (run) => {
      expect(run.stdout).toMatch(/^verify full \(SHA-256, flags, date\): EQUAL; /m);
    },
  },
  '$0 profiles': {
    check: (run) => {
      for (const name of ['gmail', 'microsoft365', 'fastmail']) expect(run.stdout).toMatch(new RegExp(`^${name}\\b`, 'm'));
    },
  },
  '$0 profiles show microsoft365': {
    check: (run) => {
      expect(run.stdout).toContain('microsoft365');
      expect(run.stdout).toMatch(/sign-in|OAuth2/i);
    },
  },
  '$0 login microsoft365 --user alice@contoso.com --client-id 00000000-0000-0000-0000-000000000000': {
    // Microsoft's endpoints are the local identity provider's.
    endpoints: () => `--device-url ${idp.base}/device --token-url ${idp.base}/token`,
    before: async () => {
      idp.clientId = '00000000-0000-0000-0000-000000000000';
      idp.nextUser = 'alice@contoso.com';
    },
    check: (run) => {
      expect(run.stderr).toContain(`open ${idp.base}/activate and enter the code WDJB-MJHT`);
      const file = join(home, '.config', 'mailferry', 'oauth2', 'microsoft365', 'alice%40contoso.com.json');
      expect(run.stdout).toContain(`saved in ${file} (mode 0600)`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    },
  },
  '$0 login gmail --user alice@gmail.com --client-id ID.apps.googleusercontent.com --client-secret SECRET': {
    // Google's endpoints are the local identity provider's; the user signs in in a browser.
    endpoints: () => `--authorize-url ${idp.base}/authorize --token-url ${idp.base}/token`,
    before: async () => {
      idp.clientId = 'ID.apps.googleusercontent.com';
      idp.clientSecret = 'SECRET';
      idp.nextUser = 'alice@gmail.com';
    },
    during: async (child) => {
      const authorizeUrl = await new Promise<string>((resolve) => {
        let text = '';
        child.stderr!.on('data', (d: Buffer) => {
          text += d.toString();
          const m = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(text);
          if (m) resolve(m[1]!);
        });
      });
      expect(await idp.completeBrowserSignIn(authorizeUrl)).toBe(200);
    },
    check: (run) => {
      const file = join(home, '.config', 'mailferry', 'oauth2', 'gmail', 'alice%40gmail.com.json');
      expect(run.stdout).toContain(`saved in ${file} (mode 0600)`);
    },
  },
  '$0 config init': {
    check: (run) => {
      expect(run.stdout).toContain(configFile);
      expect(statSync(configFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(configFile, 'utf8')).toMatch(/^jobs:$/m);
    },
  },
  '$0 config check --config backup.yaml': {
    // A job file beside the user: the one config init wrote, for the sandbox's accounts.
    before: async () => writeFileSync(join(cwd, 'backup.yaml'), sandboxedJobFile(readFileSync(configFile, 'utf8'))),
    check: (run) => {
      expect(run.stdout).toMatch(/^move: mailferry migrate .*--exclude Spam/m);
      expect(run.stdout).toMatch(/^nightly: mailferry backup .*--keep 14/m);
    },
  },
  '$0 run': {
    before: async () => {
      writeFileSync(join(work, 'alice.password'), `${PASSWORD}\n`, { mode: 0o600 });
      writeFileSync(join(work, 'new.password'), `${PASSWORD}\n`, { mode: 0o600 });
      writeFileSync(configFile, sandboxedJobFile(readFileSync(configFile, 'utf8')));
    },
    check: async () => {
      await expectSame(alice, 'jobs-new');
      expect(archiveNamed(join(work, 'srv', 'mail-archives'), /^alice-\d{4}-\d\d-\d\d\.tar\.gz$/)).toHaveLength(1);
    },
  },
  '$0 run nightly --config /etc/mailferry/backup.yaml --quiet': {
    before: async () => {
      mkdirSync(join(work, 'etc', 'mailferry'), { recursive: true });
      copyFileSync(configFile, join(work, 'etc', 'mailferry', 'backup.yaml'));
    },
    check: (run) => {
      expect(run.stdout).toBe('');
      expect(existsSync(join(work, 'srv', 'mail-backup', 'alice', 'manifest.json'))).toBe(true);
    },
  },
  'MAILFERRY_FROM_PASSWORD=... MAILFERRY_TO_PASSWORD=... $0 bulk migrate accounts.csv --parallel 8': {
    before: async () => writeFileSync(join(cwd, 'accounts.csv'), `from,to\n${url('alice')},${url('bulk-moved')}\n`),
    check: async () => {
      await expectSame(alice, 'bulk-moved');
      expect(existsSync(join(cwd, 'accounts.report', 'report.html'))).toBe(true);
    },
  },
  '$0 bulk status accounts.csv': {
    check: (run) => {
      expect(run.stdout).toMatch(/^1 account: 1 done; \d+ messages/m);
    },
  },
  '$0 bulk status accounts.csv --failed': {
    check: (run) => {
      expect(run.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^1 account: 1 done; /)]);
    },
  },
  'MAILFERRY_FROM_PASSWORD=... $0 bulk backup backups.csv --parallel 8': {
    // A row's relative directory is the list's.
    before: async () => writeFileSync(join(cwd, 'backups.csv'), `from,to\n${url('alice')},backups/alice\n`),
    check: () => {
      expect(existsSync(join(cwd, 'backups', 'alice', 'manifest.json'))).toBe(true);
    },
  },
  'MAILFERRY_FROM_PASSWORD=... MAILFERRY_TO_PASSWORD=... $0 worker --queue redis://queue.example:6379 --parallel 8': {
    // The queue is a private Redis; a campaign is enqueued meanwhile, and the worker stopped once it is done.
    before: async () => {
      redis = await startRedis();
      writeFileSync(join(cwd, 'queued.csv'), `from,to\n${url('alice')},${url('queued-moved')}\n`);
      enqueued = mailferry(['bulk', 'migrate', join(cwd, 'queued.csv'), '--queue', redis.url]);
    },
    rewrite: (line) => line.replace('redis://queue.example:6379', redis!.url),
    during: async (child) => {
      const run = await enqueued!;
      expect(run.code, run.stderr).toBe(0);
      for (const pid of leaves(child.pid!)) process.kill(pid, 'SIGTERM');
    },
    check: async (run) => {
      expect(run.stderr).toMatch(/worker: stopped/);
      await expectSame(alice, 'queued-moved');
    },
  },
};

let redis: RedisServer | undefined;
let enqueued: Promise<CliRun> | undefined;

/** The processes at the bottom of a process tree (the shell's command, and what it execs). */
function leaves(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.length === 0 ? [pid] : children.flatMap(leaves);
}

beforeAll(async () => {
  mkdirSync(home, { recursive: true });
  mkdirSync(cwd, { recursive: true });
  mkdirSync(bin, { recursive: true });
  // `mailferry` as npm install -g puts it on PATH.
  writeFileSync(join(bin, 'mailferry'), `#!/bin/sh\nexec '${process.execPath}' '${MAIN}' "$@"\n`);
  chmodSync(join(bin, 'mailferry'), 0o755);
  const users = ['alice', 'cutover', 'moved', 'previewed', 'mapped', 'imported', 'checked', 'cutover-new', 'restored', 'from-archive', 'takeout', 'jobs-new', 'bulk-moved', 'queued-moved'];
  server = await startDovecot({ users: users.map((name) => ({ name, password: PASSWORD })) });
  // What `mailferry sandbox` puts into alice, smaller; and mail of last month in Work/Projects, for --since 1y.
  const opts = { seed: 1, messages: 40, maxSize: 200_000 };
  const recent = [...generateCorpus({ seed: 2, messages: 3, maxSize: 20_000 })].map((m) => ({ ...m, folder: 'Work/Projects', internalDate: new Date(Date.now() - 30 * 86_400_000) }));
  await seedAccount(addr('alice'), [...generateCorpus(opts), ...recent], { folders: corpusFolders(opts) });
  await seedAccount(addr('cutover'), generateCorpus({ seed: 3, messages: 10, maxSize: 20_000 }));
  alice = await snapshot('alice');
  idp = new FakeIdentityProvider();
  await new Promise<void>((resolve) => idp.server.listen(0, '127.0.0.1', resolve));
}, 120_000);

afterAll(async () => {
  await redis?.stop();
  idp?.server.close();
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

const examples = declaredExamples();

describe('every --help example runs as shown against the sandbox', () => {
  it('each example of each command is in its --help, and this test knows how every one runs', async () => {
    expect(examples.length).toBeGreaterThan(10);
    const commands = [...new Set(examples.map((e) => e.command))];
    const helps = await Promise.all(commands.map((command) => runCli([...command.split(' '), '--help'])));
    for (const [i, command] of commands.entries()) {
      const help = helps[i]!;
      const shown = help.stdout.slice(help.stdout.indexOf('Examples:')).split(/\s+/);
      for (const e of examples.filter((x) => x.command === command)) {
        // The help text wraps an example beside its description: the words of each, in order.
        for (const text of [e.example.replace(/\$0/g, 'mailferry'), e.description]) {
          let at = 0;
          for (const word of text.split(/\s+/)) {
            at = shown.indexOf(word, at) + 1;
            expect(at, `${command} --help shows ${text}`).toBeGreaterThan(0);
          }
        }
      }
    }
    expect(Object.keys(SCENARIOS).sort()).toEqual(examples.map((e) => e.example).sort());
  });

  describe.sequential('run in order', () => {
    it.each(Object.keys(SCENARIOS))('%s', async (example) => {
      const scenario = SCENARIOS[example]!;
      await scenario.before?.();
      const run = await shell(sandboxed(example, scenario), scenario, join(work, scenario.state ?? `state-${Object.keys(SCENARIOS).indexOf(example)}`));
      expect(run.code, `${sandboxed(example, scenario)}\n${run.stderr}`).toBe(0);
      await scenario.check(run);
    }, 120_000);
  });
});

import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus, corpusFolders } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Enough that the first run, on one connection, is stopped with most folders still to do. */
const MESSAGES = 400;
const SRC_PASSWORD = 'pw-Api-src-1';
const DST_PASSWORD = 'pw-Api-dst-1';

let server: DovecotServer;
const work = mkdtempSync(join(tmpdir(), 'mf-api-'));
const project = join(work, 'consumer');

/**
 * A program that uses mailferry as a user would: installed from the packed tarball, typed by its
 * .d.ts. It migrates, aborted after the first progress event, then again to resume, compares
 * both accounts, lists folders with the IMAP conversation logged, backs the source up and
 * restores the backup into a third account, and tries what must fail. It prints one JSON line:
 * nothing else may reach stdout or stderr.
 */
const CONSUMER = `
import { InterruptedError, MailferryError, UsageError, backup, listFolders, migrate, restore, verify, type MigrateOptions, type RunEvent, type RunSummary } from 'mailferry';

const env = (name: string): string => process.env[name] ?? '';
const options: MigrateOptions = {
  from: env('MF_FROM'), fromPasswordEnv: 'MF_SRC_PW', fromCa: env('MF_CA'),
  to: env('MF_TO'), toPassword: env('MF_DST_PW'), toCa: env('MF_CA'),
  state: env('MF_STATE'),
};

const controller = new AbortController();
const first = migrate({ ...options, connections: 1, signal: controller.signal });
const firstEvents: Array<RunEvent['type']> = [];
first.on('plan', (e) => firstEvents.push(e.type));
first.once('progress', (e) => {
  firstEvents.push(e.type);
  controller.abort();
});
let aborted: { name: string; exitCode: number; interrupted: boolean } | undefined;
try {
  await first;
} catch (err) {
  if (!(err instanceof MailferryError)) throw err;
  aborted = { name: err.name, exitCode: err.exitCode, interrupted: err instanceof InterruptedError };
}

const second = migrate(options);
let progressMessages = 0;
const foldersDone: string[] = [];
second.on('progress', (e) => (progressMessages += e.messages));
second.on('folder-done', (e) => foldersDone.push(e.report.source));
const summary: RunSummary = await second;

const comparison = await verify({ from: options.from, fromPasswordEnv: 'MF_SRC_PW', fromCa: options.fromCa, to: options.to, toPassword: env('MF_DST_PW'), toCa: options.toCa });

const log: string[] = [];
const listing = await listFolders({ from: options.from, fromPasswordEnv: 'MF_SRC_PW', fromCa: options.fromCa, debug: true, log: (line) => log.push(line) });

const backedUp = await backup({ from: options.from, fromPasswordEnv: 'MF_SRC_PW', fromCa: options.fromCa, to: env('MF_BACKUP') });
const restored = await restore({ from: env('MF_BACKUP'), to: env('MF_RESTORE_TO'), toPassword: env('MF_DST_PW'), toCa: options.toCa, state: env('MF_STATE') + '.restore' });

let refused: { name: string; exitCode: number; message: string } | undefined;
try {
  await migrate({ ...options, connections: 0 });
} catch (err) {
  if (err instanceof UsageError) refused = { name: err.name, exitCode: err.exitCode, message: err.message };
}

const internal = 'mailferry/dist/engine/report.js';
let deepImport = 'imported';
try {
  await import(internal);
} catch (err) {
  deepImport = (err as NodeJS.ErrnoException).code ?? String(err);
}

process.stdout.write(JSON.stringify({
  aborted, firstEvents, summary, progressMessages, foldersDone: foldersDone.length,
  verify: { equal: comparison.equal, exitCode: comparison.exitCode },
  listed: listing.folders.reduce((n, f) => n + f.messages, 0),
  backup: backedUp.totals, restore: restored.totals, log, refused, deepImport,
}) + '\\n');
`;

const TSCONFIG = {
  compilerOptions: { strict: true, skipLibCheck: false, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'] },
  files: ['consumer.ts'],
};

/**
 * npm as a user runs it: under `npm test` the environment holds the outer npm's settings
 * (npm_config_local_prefix among them), which would point the inner npm at the repository.
 */
const npm = (args: string[], cwd: string) =>
  run('npm', args, { cwd, env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_'))) });

/** `npm pack`, then install the tarball into a fresh project the way a user would. */
async function installPackage(): Promise<void> {
  // The build is the test suite's (npm test builds first): packing must not rebuild under it.
  const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO);
  const tarball = join(work, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await npm(['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], project);
  // better-sqlite3's install script compiles SQLite for minutes when it cannot download a
  // prebuilt binary (no internet here): the repository's own build serves when it is the same version.
  const version = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
  const installed = join(project, 'node_modules');
  if (version(installed) === version(join(REPO, 'node_modules'))) {
    mkdirSync(join(installed, 'better-sqlite3', 'build', 'Release'), { recursive: true });
    copyFileSync(join(REPO, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), join(installed, 'better-sqlite3/build/Release/better_sqlite3.node'));
  } else {
    await npm(['rebuild', 'better-sqlite3'], project);
  }
  mkdirSync(join(installed, '@types'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules/@types/node'), join(installed, '@types/node'));
}

/** The consumer compiled with the repository's TypeScript against the installed .d.ts (tsc prints its errors on stdout). */
async function compileConsumer(): Promise<void> {
  writeFileSync(join(project, 'consumer.ts'), CONSUMER);
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: project }).catch((err: { stdout?: string }) => {
    throw new Error(`the consumer does not compile against mailferry's .d.ts:\n${err.stdout ?? String(err)}`);
  });
}

beforeAll(async () => {
  const serverReady = (async () => {
    server = await startDovecot({ users: [{ name: 'src', password: SRC_PASSWORD }, { name: 'dst', password: DST_PASSWORD }, { name: 'restored', password: DST_PASSWORD }] });
    const opts = { seed: 31, messages: MESSAGES };
    await seedAccount({ host: server.host, port: server.port, user: 'src', password: SRC_PASSWORD }, generateCorpus(opts), { folders: corpusFolders(opts) });
  })();
  await Promise.all([serverReady, installPackage().then(compileConsumer)]);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

// beforeAll compiles the consumer (tsc --strict, no skipLibCheck) while Dovecot is seeded.
describe('mailferry as a library, installed from its npm tarball and typed by its .d.ts', () => {
  it('migrates with progress events, resumes an aborted run exactly once, backs up and restores, and exposes nothing internal; the command still works', async () => {

    const url = (user: string): string => `imap://${user}@${server.host}:${server.port}`;
    const consumer = await run(process.execPath, ['consumer.js'], {
      cwd: project,
      env: {
        PATH: process.env.PATH,
        MF_FROM: url('src'),
        MF_TO: url('dst'),
        MF_CA: server.caFile,
        MF_STATE: join(work, 'state.sqlite'),
        MF_BACKUP: join(work, 'backup'),
        MF_RESTORE_TO: url('restored'),
        MF_SRC_PW: SRC_PASSWORD,
        MF_DST_PW: DST_PASSWORD,
      },
    });
    expect(consumer.stderr).toBe('');
    const lines = consumer.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);

    // The first run stopped at its first progress event, with the interrupted exit code.
    expect(out.firstEvents).toEqual(['plan', 'progress']);
    expect(out.aborted).toEqual({ name: 'InterruptedError', exitCode: 130, interrupted: true });
    // The second copied the rest: some, not all, since the first had copied part.
    expect(out.summary).toMatchObject({ command: 'migrate', exitCode: 0, dryRun: false, totals: { failed: 0 } });
    expect(out.summary.totals.copied).toBeGreaterThan(0);
    expect(out.summary.totals.copied).toBeLessThan(MESSAGES);
    expect(out.progressMessages).toBeGreaterThan(0);
    expect(out.foldersDone).toBe(out.summary.totals.folders);
    expect(out.verify).toEqual({ equal: true, exitCode: 0 });
    expect(out.listed).toBe(MESSAGES);

    expect(out.backup).toMatchObject({ copied: MESSAGES, failed: 0 });
    expect(out.restore).toMatchObject({ copied: MESSAGES, failed: 0 });

    // The IMAP conversation went to the caller's log, the password redacted.
    expect(out.log.some((line: string) => line.includes('AUTHENTICATE'))).toBe(true);
    expect(out.log.join('\n')).not.toContain(SRC_PASSWORD);
    expect(out.refused).toEqual({ name: 'UsageError', exitCode: 2, message: '--connections: expected a whole number of at least 1, got 0' });
    expect(out.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');

    // The command is still installed beside the library, and finds its profiles in the package.
    const bin = await run(join(project, 'node_modules/.bin/mailferry'), ['profiles'], { cwd: project });
    expect(bin.stdout).toMatch(/^gmail\s+imap\.gmail\.com/m);

    const account = (user: string, password: string) => snapshotAccount({ host: server.host, port: server.port, user, password });
    const source = await account('src', SRC_PASSWORD);
    for (const user of ['dst', 'restored']) {
      const diff = diffSnapshots(source, await account(user, DST_PASSWORD));
      expect(diff.details).toEqual([]);
      expect(diff.duplicates).toBe(0);
      expect(diff.equal).toBe(true);
    }
  });
});

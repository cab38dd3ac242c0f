import { chownSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';
import { runCli } from './support/cli.js';

// imapsync's everyday options: ages for --since/--before and --min-size, regular-expression maps,
// --into/--recursive, --just-folders, --check-login and --errors-max, against a real Dovecot.
const PASSWORD = 'pw-Everyday-1';
const USERS = ['src', 'esrc', 'filtered', 'regex', 'refused', 'into', 'tree', 'tree2', 'login', 'errors'];
let server: DovecotServer;
let source: Snapshot;
const work = mkdtempSync(join(tmpdir(), 'mf-everyday-'));

const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };

function migrate(from: string, to: string, state: string, extra: string[] = [], environment = env) {
  return runCli(['migrate', '--from', url(from), '--to', url(to), '--state', join(work, state), '--json', ...extra], environment);
}

/** Every folder of an account with its message count. */
async function folderCounts(user: string): Promise<Record<string, number>> {
  const c = await connectPlain(addr(user));
  try {
    const out: Record<string, number> = {};
    for (const f of await c.list({ statusQuery: { messages: true } })) out[f.path] = f.status?.messages ?? -1;
    return out;
  } finally {
    await c.logout();
  }
}

/** `snapshot` with only the messages `keep` accepts (folders kept, perhaps empty). */
function only(snapshot: Snapshot, keep: (t: { size: number; internalDate: number }) => boolean): Snapshot {
  return new Map([...snapshot].map(([folder, tuples]) => [folder, tuples.filter(keep)]));
}

/** The start of today's UTC day less `days`, in epoch seconds: what `--since ${days}d` means. */
function daysAgo(days: number): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - days) / 1000;
}

beforeAll(async () => {
  server = await startDovecot({ users: USERS.map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 31, messages: 160 };
  await seedAccount(addr('src'), generateCorpus(opts), { folders: corpusFolders(opts) });
  source = await snapshotAccount(addr('src'));
}, 300_000);

afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('--since/--before as an age, and --min-size', () => {
  it('--since 3650d --min-size 3000 copies exactly the young, big enough messages, counts the rest by reason, and a plain rerun copies exactly those', async () => {
    const boundary = daysAgo(3650);
    const run = await migrate('src', 'filtered', 'filtered.sqlite', ['--since', '3650d', '--min-size', '3000']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const all = [...source.values()].flat();
    const old = all.filter((t) => t.internalDate < boundary);
    const small = all.filter((t) => t.internalDate >= boundary && t.size < 3000);
    // Both filters leave something out, and something is left to copy.
    expect(old.length).toBeGreaterThan(10);
    expect(small.length).toBeGreaterThan(10);
    const totals = JSON.parse(run.stdout).totals;
    expect(totals).toMatchObject({ copied: all.length - old.length - small.length, skipped: old.length + small.length, failed: 0 });
    const skipped = JSON.parse(run.stdout).folders.reduce((sum: Record<string, number>, f: { skipped: Record<string, number> }) => {
      for (const [k, v] of Object.entries(f.skipped)) sum[k] = (sum[k] ?? 0) + v;
      return sum;
    }, {});
    expect(skipped).toEqual({ 'before-since': old.length, 'under-min-size': small.length });
    const copied = only(source, (t) => t.internalDate >= boundary && t.size >= 3000);
    expect(diffSnapshots(copied, await snapshotAccount(addr('filtered'))).details).toEqual([]);

    const rerun = await migrate('src', 'filtered', 'filtered.sqlite');
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout).totals).toMatchObject({ copied: old.length + small.length, failed: 0 });
    const diff = diffSnapshots(source, await snapshotAccount(addr('filtered')));
    expect(diff.details).toEqual([]);
    expect(diff.duplicates).toBe(0);
  });

  it('backup takes the same filters: --before 3650d --min-size 3000 keeps exactly the old, big enough messages', async () => {
    const boundary = daysAgo(3650);
    const dir = join(work, 'filtered-backup');
    const run = await runCli(['backup', '--from', url('src'), '--to', dir, '--json', '--before', '3650d', '--min-size', '3000', '--map', '^Work/(.*)$=Old/$1'], env);
    expect(run.code).toBe(0);
    const all = [...source.values()].flat();
    const kept = all.filter((t) => t.internalDate < boundary && t.size >= 3000);
    const small = all.filter((t) => t.internalDate < boundary && t.size < 3000);
    const summary = JSON.parse(run.stdout);
    expect(summary.totals).toMatchObject({ copied: kept.length, skipped: all.length - kept.length, failed: 0 });
    expect(summary.folders.reduce((n: number, f: { skipped: Record<string, number> }) => n + (f.skipped['under-min-size'] ?? 0), 0)).toBe(small.length);
    expect(summary.folders.find((f: { source: string }) => f.source === 'Work/Projects').destination).toMatch(/Old.Projects/);
  });

  it('an age that is no age is a one-line usage error (exit 2)', async () => {
    const run = await migrate('src', 'filtered', 'bad-age.sqlite', ['--before', '3 weeks']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('error: --before: not a date or an age: 3 weeks (use YYYY-MM-DD, or e.g. 30d, 6w, 3m, 1y)');
  });
});

describe("--map '^PATTERN=DEST'", () => {
  const moved = (f: string): string => f.replace(/^Work\/(.*)$/, 'Old/$1').replace(/^Mailing Lists(\/|$)/, 'Lists$1');

  it('puts each folder where its pattern sends it, with the groups filled in, every message once', async () => {
    const run = await migrate('src', 'regex', 'regex.sqlite', ['--map', '^Work/(.*)$=Old/$1', '--map', '^Mailing Lists(/|$)=Lists$1']);
    expect(run.code).toBe(0);
    const counts = await folderCounts('regex');
    expect(Object.keys(counts)).toEqual(expect.arrayContaining(['Work', 'Old/Projects', 'Old/Projects/2024', 'Lists', 'Lists/dovecot']));
    expect(Object.keys(counts)).not.toContain('Mailing Lists');
    expect(Object.keys(counts)).not.toContain('Work/Projects');
    const diff = diffSnapshots(source, await snapshotAccount(addr('regex')), { folderMap: moved });
    expect(diff.details).toEqual([]);
    expect(diff.equal).toBe(true);
  });

  it.each([
    [['^(Work|Archive)(/.*)?$=Merged'], /^error: --map \^\(Work\|Archive\)\(\/\.\*\)\?\$=Merged: sends both \S+ and \S+ to Merged$/],
    [['^Work/(.*)$=Old//$1'], /^error: --map \^Work\/\(\.\*\)\$=Old\/\/\$1: Work\/Projects would become "Old\/\/Projects", which has an empty level$/],
    [['^Junk$=Sent'], /^error: --map \^Junk\$=Sent: sends both (Sent and Junk|Junk and Sent) to Sent$/],
    [['^Private/(.*)$=Old/$1'], /^error: --map \^Private\/\(\.\*\)\$=Old\/\$1: matches no source folder$/],
  ])('refuses %j with exit 2 before anything is written, dry run or not', async (map, message) => {
    const before = await folderCounts('refused');
    for (const extra of [[], ['--dry-run']]) {
      const run = await migrate('src', 'refused', 'refused.sqlite', [...map.flatMap((m) => ['--map', m]), ...extra]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim()).toMatch(message);
      // --json: the document still comes, with the exit code and the same line, and no folder in it.
      expect(JSON.parse(run.stdout)).toMatchObject({ exitCode: 2, error: run.stderr.trim().replace(/^error: /, ''), folders: [] });
    }
    expect(await folderCounts('refused')).toEqual(before);
    expect(existsSync(join(work, 'refused.sqlite'))).toBe(false);
  });
});

describe('migrate --into and --recursive', () => {
  it('--into Imported puts the whole account under Imported, special-use folders too, every message once', async () => {
    const run = await migrate('src', 'into', 'into.sqlite', ['--into', 'Imported']);
    expect(run.code).toBe(0);
    const dest = await snapshotAccount(addr('into'));
    // The destination's own Sent, Trash, ... stay empty: the source's went under Imported.
    for (const own of ['INBOX', 'Sent', 'Trash']) expect(dest.get(own)).toEqual([]);
    const diff = diffSnapshots(source, dest, { folderMap: (f) => `Imported/${f}` });
    expect(diff.details).toEqual([]);
    expect(diff.equal).toBe(true);
  });

  it('--folder Work --recursive copies that subtree only; with --into Old it goes under Old', async () => {
    const work = ['Work', 'Work/Projects', 'Work/Projects/2024'];
    const subtree = new Map([...source].filter(([f]) => work.includes(f)));
    expect((await migrate('src', 'tree', 'tree.sqlite', ['--folder', 'Work', '--recursive'])).code).toBe(0);
    const ignore = ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive'];
    expect(diffSnapshots(subtree, await snapshotAccount(addr('tree')), { ignoreFolders: ignore }).details).toEqual([]);
    expect(Object.keys(await folderCounts('tree')).sort()).toEqual([...ignore, ...work].sort());

    expect((await migrate('src', 'tree2', 'tree2.sqlite', ['--folder', 'Work', '--recursive', '--into', 'Old'])).code).toBe(0);
    expect(diffSnapshots(subtree, await snapshotAccount(addr('tree2')), { folderMap: (f) => `Old/${f}`, ignoreFolders: ignore }).details).toEqual([]);
  });

  it('--recursive without --folder, and --into with --map, are usage errors', async () => {
    expect((await migrate('src', 'tree', 'x.sqlite', ['--recursive'])).stderr).toMatch(/^error: --recursive needs --folder/);
    const both = await migrate('src', 'tree', 'x.sqlite', ['--into', 'A', '--map', '^Work$=B']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^error: --into and --map exclude each other/);
  });
});

describe('migrate --just-folders', () => {
  it('creates the mapped folder tree and not one message; a rerun finds it all there; migrate then fills it', async () => {
    const args = ['--just-folders', '--map', '^Work/(.*)$=Old/$1'];
    const dry = await runCli(['migrate', '--from', url('src'), '--to', url('tree'), '--just-folders', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^ {2}would create R&D$/m);

    const before = await folderCounts('login');
    const run = await migrate('src', 'login', 'jf.sqlite', args);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    const counts = await folderCounts('login');
    const made = Object.keys(counts).filter((f) => !(f in before));
    expect(result.created.sort()).toEqual(made.sort());
    expect(made).toEqual(expect.arrayContaining(['Work', 'Old', 'Old/Projects', 'Old/Projects/2024', '日本語', 'Ящик/Входящие', 'R&D']));
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
    expect(result).toMatchObject({ justFolders: true, refused: [], exitCode: 0 });
    expect(existsSync(join(work, 'jf.sqlite'))).toBe(false);

    const again = await migrate('src', 'login', 'jf.sqlite', args.filter((a) => a !== '--json'));
    expect(JSON.parse(again.stdout)).toMatchObject({ created: [] });

    const full = await migrate('src', 'login', 'jf.sqlite', ['--map', '^Work/(.*)$=Old/$1']);
    expect(full.code).toBe(0);
    expect(diffSnapshots(source, await snapshotAccount(addr('login')), { folderMap: (f) => f.replace(/^Work\/(.*)$/, 'Old/$1') }).details).toEqual([]);
  });
});

describe('migrate --check-login', () => {
  const check = (extra: string[], environment = env) => runCli(['migrate', '--from', url('src'), '--to', url('login'), '--check-login', ...extra], environment);

  it('logs in to both sides and prints the capabilities and namespace that matter', async () => {
    const before = await folderCounts('login');
    const run = await check([]);
    expect(run.code).toBe(0);
    for (const side of [`source ${url('src')}: logged in`, `destination ${url('login')}: logged in`]) expect(run.stdout).toContain(side);
    for (const line of ['IMAP4rev1    yes', 'UIDPLUS      yes', 'MULTIAPPEND  yes', 'LITERAL+     yes', 'CONDSTORE    yes', 'QRESYNC      yes', 'SPECIAL-USE  yes', 'LIST-STATUS  yes', 'ID           yes']) {
      expect(run.stdout.split('\n').filter((l) => l.trim() === line)).toHaveLength(2);
    }
    expect(run.stdout.match(/personal namespace: prefix "", delimiter "\/"/g)).toHaveLength(2);
    expect(await folderCounts('login')).toEqual(before);

    const json = JSON.parse((await check(['--json'])).stdout);
    expect(json.source.capabilities).toMatchObject({ IMAP4rev1: true, UIDPLUS: true, MULTIAPPEND: true, 'X-GM-EXT-1': false });
    expect(json.destination.namespace).toEqual({ prefix: '', delimiter: '/' });
  });

  it('exits 3 when a login is refused, still telling about the other side, and 4 when a server is unreachable', async () => {
    const refused = await check([], { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: 'wrong' });
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain(`source ${url('src')}: logged in`);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^error: .*login@.*authentication failed/);

    const unreachable = await runCli(['migrate', '--from', url('src'), '--to', 'imap://login@127.0.0.1:1', '--check-login'], env);
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('migrate --errors-max', () => {
  /** Zero-byte messages, which Dovecot refuses to APPEND ("Can't save a zero byte message"). */
  async function addEmptyMessages(user: string, count: number): Promise<void> {
    const maildir = join(server.mailHome(user), 'Maildir');
    const owner = statSync(maildir);
    for (let i = 0; i < count; i++) {
      const file = join(maildir, 'new', `1700000000.M${i}P1.empty`);
      writeFileSync(file, '');
      chownSync(file, owner.uid, owner.gid);
    }
    await server.doveadm(['force-resync', '-u', user, 'INBOX']);
  }

  it('stops once N messages have failed (exit 8), and a rerun resumes: every message once', async () => {
    const opts = { seed: 32, messages: 300, folders: 8 };
    await seedAccount(addr('esrc'), generateCorpus(opts), { folders: corpusFolders(opts) });
    await addEmptyMessages('esrc', 3);

    // One connection: INBOX, the biggest folder, goes first, and the run stops there.
    const run = await migrate('esrc', 'errors', 'errors.sqlite', ['--errors-max', '2', '--connections', '1']);
    expect(run.code).toBe(8);
    expect(JSON.parse(run.stdout)).toMatchObject({ exitCode: 8, error: run.stderr.trim().split('\n').at(-1)!.replace(/^error: /, '') });
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(/^error: --errors-max 2: 3 messages failed, the last INBOX UID \d+: .*zero byte.*; stopped, a rerun retries them and resumes$/);
    const stopped = Object.values(await folderCounts('errors')).reduce((a, n) => a + n, 0);
    expect(stopped).toBeLessThan(300);

    // The refused messages are retried, and fail again, under a higher limit: the rest is copied.
    const rerun = await migrate('esrc', 'errors', 'errors.sqlite', ['--errors-max', '4']);
    expect(rerun.code).toBe(1);
    expect(JSON.parse(rerun.stdout).totals).toMatchObject({ failed: 3 });
    const diff = diffSnapshots(await snapshotAccount(addr('esrc')), await snapshotAccount(addr('errors')));
    expect(diff.missing).toBe(3);
    expect(diff.extra + diff.duplicates + diff.flagMismatch + diff.dateMismatch).toBe(0);
  });

  it('--errors-max 0 is a usage error', async () => {
    const run = await migrate('src', 'errors', 'e0.sqlite', ['--errors-max', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('error: --errors-max: expected a whole number of at least 1, got 0');
  });
});

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignSnapshot } from '../src/bulk/account-status.js';
import type { CampaignTotals } from '../src/bulk/campaign-totals.js';
import { generateCorpus, type CorpusMessage } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer, type DovecotUser } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli, startCli, type CliRun } from './support/cli.js';
import { chromiumMissing, dumpDom } from './support/headless-chromium.js';
import { startFaultProxy } from './support/imap-fault-proxy.js';
import { snapshotBackup } from './support/backup-snapshot.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { prng } from './support/prng.js';

/** Every account's password, and the canary no status, log or output may ever hold. */
const PASSWORD = 'Canary-pw-7Qx2vB';
const ADMIN_PASSWORD = 'Admin-canary-3Kd9';
const WRONG = 7;
const FULL = 13;
const pad = (n: number): string => String(n).padStart(2, '0');
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const FIFTY = range(1, 50);
const KILLED = range(1, 8);
const STOPPED = range(1, 6);

let server: DovecotServer;
const work = mkdtempSync(join(tmpdir(), 'mf-bulk-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, MAILFERRY_BULK_RETRY_BASE_MS: '3000' };
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string, port = server.port) => `imap://${user}@${server.host}:${port}`;
const tls = () => ['--from-ca', server.caFile, '--to-ca', server.caFile];
const outputs: string[] = [];

/** A small mailbox in INBOX and Sent: `count` messages of at most 30 kB. */
function mailbox(seed: number, count: number): CorpusMessage[] {
  return [...generateCorpus({ seed, messages: count, maxSize: 30_000 })].map((m, i) => ({ ...m, folder: i % 3 === 0 ? 'Sent' : 'INBOX' }));
}

async function seed(user: string, seedValue: number, count: number): Promise<void> {
  await seedAccount(addr(user), mailbox(seedValue, count), { folders: [{ path: 'INBOX' }, { path: 'Sent', specialUse: '\\Sent' }] });
}

function writeList(name: string, lines: string[], mode = 0o644): string {
  const file = join(work, name);
  writeFileSync(file, lines.join('\n') + '\n', { mode });
  chmodSync(file, mode);
  return file;
}

const statusOf = (list: string): string => list.replace(/\.(csv|ya?ml)$/, '.status.sqlite');

async function status(list: string): Promise<CampaignSnapshot & { totals: CampaignTotals }> {
  const run = await runCli(['bulk', 'status', '--status', statusOf(list), '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

async function bulk(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const run = await runCli(['bulk', ...args], { ...env, ...extraEnv });
  outputs.push(run.stdout, run.stderr);
  return run;
}

async function expectCopied(src: string, dst: string): Promise<number> {
  const source = await snapshotAccount(addr(src));
  const diff = diffSnapshots(source, await snapshotAccount(addr(dst)));
  expect(diff.details, `${src} -> ${dst}`).toEqual([]);
  expect(diff.duplicates).toBe(0);
  return [...source.values()].reduce((n, tuples) => n + tuples.length, 0);
}

/** Every file under dir (the status file and its WAL, the accounts' checkpoints and logs). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  const users: DovecotUser[] = [
    ...FIFTY.flatMap((i) => [
      { name: `s${pad(i)}`, password: i === WRONG ? 'not-the-campaign-password' : PASSWORD },
      { name: `d${pad(i)}`, password: PASSWORD, ...(i === FULL ? { extra: 'userdb_quota_rule=*:storage=8K' } : {}) },
    ]),
    ...KILLED.flatMap((i) => [{ name: `ks${i}`, password: PASSWORD }, { name: `kd${i}`, password: PASSWORD }]),
    ...STOPPED.flatMap((i) => [{ name: `ts${i}`, password: PASSWORD }, { name: `td${i}`, password: PASSWORD }]),
    { name: 'rs', password: PASSWORD }, { name: 'rd', password: PASSWORD },
    { name: 'ad1', password: PASSWORD }, { name: 'ad2', password: PASSWORD },
  ];
  server = await startDovecot({ users, masterUsers: [{ name: 'admin', password: ADMIN_PASSWORD }] });
  const seeds: Array<() => Promise<void>> = [
    ...FIFTY.map((i) => () => seed(`s${pad(i)}`, 100 + i, 2 + ((i * 7) % 11))),
    ...KILLED.map((i) => () => seed(`ks${i}`, 200 + i, 80)),
    ...STOPPED.map((i) => () => seed(`ts${i}`, 300 + i, 120)),
    () => seed('rs', 400, 10),
  ];
  // The user with the other password is seeded with it.
  const wrong = seeds.splice(WRONG - 1, 1, () => seedAccount({ ...addr(`s${pad(WRONG)}`), password: 'not-the-campaign-password' }, mailbox(100 + WRONG, 5), { folders: [{ path: 'INBOX' }, { path: 'Sent', specialUse: '\\Sent' }] }).then(() => {}));
  expect(wrong).toHaveLength(1);
  for (let i = 0; i < seeds.length; i += 8) await Promise.all(seeds.slice(i, i + 8).map((s) => s()));
}, 300_000);

afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('mailferry bulk migrate: many accounts from one list, embedded', () => {
  it('50 accounts: 48 done and equal by the oracle, the wrong password and the full destination failed with their lines, exit 1; bulk status --json agrees', async () => {
    const list = writeList('fifty.csv', ['id,from,to', ...FIFTY.map((i) => `acct${pad(i)},${url(`s${pad(i)}`)},${url(`d${pad(i)}`)}`)]);
    const run = await bulk(['migrate', list, ...tls(), '--parallel', '4', '--connections', '2']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: acct${pad(WRONG)} \\(${list}:${WRONG + 1}\\) .*: .*(authentication|password|login)`, 'im'));
    expect(run.stderr).toMatch(new RegExp(`^error: acct${pad(FULL)} \\(${list}:${FULL + 1}\\) .*: .*quota`, 'im'));
    expect(run.stderr).not.toMatch(/internal error|\n\s+at \S+ \(/);

    const snapshot = await status(list);
    expect(snapshot.totals.byState).toMatchObject({ done: 48, failed: 2, queued: 0, running: 0, retrying: 0 });
    let messages = 0;
    for (const i of FIFTY.filter((n) => n !== WRONG && n !== FULL)) {
      const copied = await expectCopied(`s${pad(i)}`, `d${pad(i)}`);
      const account = snapshot.accounts.find((a) => a.id === `acct${pad(i)}`)!;
      expect(account).toMatchObject({ state: 'done', attempts: 1, messages: copied, exitCode: 0 });
      messages += copied;
    }
    expect(snapshot.totals.messages).toBe(messages);
    // A wrong password is not a transient failure: tried once, not retried.
    expect(snapshot.accounts.find((a) => a.id === `acct${pad(WRONG)}`)).toMatchObject({ state: 'failed', attempts: 1, exitCode: 3 });
    expect(snapshot.accounts.find((a) => a.id === `acct${pad(FULL)}`)).toMatchObject({ state: 'failed', attempts: 1 });
    expect(snapshot.throughput.length).toBeGreaterThanOrEqual(2);
    expect(snapshot.throughput.at(-1)!.messages).toBe(messages);

    // The three reports beside the list agree with the status and the oracle.
    const reports = join(work, 'fifty.report');
    const json = JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8')) as { totals: CampaignTotals };
    expect(json.totals).toEqual(snapshot.totals);
    expect(json.totals.messages).toBe(messages);
    const rows = readFileSync(join(reports, 'report.csv'), 'utf8').trim().split('\r\n').slice(1);
    expect(rows).toHaveLength(50);
    expect(rows.filter((r) => r.includes(',done,'))).toHaveLength(48);
    expect(rows.filter((r) => r.includes(',failed,'))).toHaveLength(2);
    if (chromiumMissing() === undefined) {
      const dom = await dumpDom(`file://${join(reports, 'report.html')}`);
      for (const i of FIFTY) expect(dom).toContain(`acct${pad(i)}`);
      // Failures first, and the throughput chart drawn.
      expect(dom.indexOf(`acct${pad(WRONG)}`)).toBeLessThan(dom.indexOf('acct01'));
      expect(dom).toMatch(/<svg[^>]*>[\s\S]*<(polyline|path)/);
    }
  }, 240_000);

  it('killed with kill -9 at 10 random moments and rerun after each: every account equal, no duplicate, each done in the status', async () => {
    const list = writeList('killed.csv', ['from,to', ...KILLED.map((i) => `${url(`ks${i}`)},${url(`kd${i}`)}`)]);
    const random = prng(4242);
    for (let k = 0; k < 10; k++) {
      const { child, done } = startCli(['bulk', 'migrate', list, ...tls(), '--parallel', '4', '--connections', '2'], env);
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 2500)));
      child.kill('SIGKILL');
      const run = await done;
      outputs.push(run.stdout, run.stderr);
    }
    const last = await bulk(['migrate', list, ...tls(), '--parallel', '4', '--connections', '2']);
    expect(last.code, last.stderr).toBe(0);
    for (const i of KILLED) await expectCopied(`ks${i}`, `kd${i}`);
    const snapshot = await status(list);
    expect(snapshot.accounts.map((a) => a.state)).toEqual(KILLED.map(() => 'done'));
  }, 240_000);

  it('SIGTERM in the middle: exit 130, the accounts not finished are not done in the status; a rerun completes them', async () => {
    const list = writeList('stopped.csv', ['from,to', ...STOPPED.map((i) => `${url(`ts${i}`)},${url(`td${i}`)}`)]);
    const { child, done } = startCli(['bulk', 'migrate', list, ...tls(), '--parallel', '2', '--connections', '1'], env);
    await new Promise<void>((resolve) => child.stderr!.on('data', (d: Buffer) => /: started/.test(d.toString()) && resolve()));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const stopped = await done;
    outputs.push(stopped.stdout, stopped.stderr);
    expect(stopped.code, stopped.stderr).toBe(130);
    const between = await status(list);
    expect(between.totals.byState.done).toBeLessThan(STOPPED.length);
    expect(between.totals.byState.running).toBe(0);
    // The accounts running at the signal were stopped (checkpointed), not finished.
    expect(between.accounts.filter((a) => a.state === 'queued' && a.attempts > 0).length).toBeGreaterThan(0);
    const rerun = await bulk(['migrate', list, ...tls(), '--parallel', '2', '--connections', '1']);
    expect(rerun.code, rerun.stderr).toBe(0);
    for (const i of STOPPED) await expectCopied(`ts${i}`, `td${i}`);
    expect((await status(list)).totals.byState.done).toBe(STOPPED.length);
  }, 180_000);

  it('a transient failure (connections refused longer than a run waits) is retried after a backoff, and then done', async () => {
    // A run tries to connect 4 times over 7 s by itself: 12 s of refusal outlast the first
    // attempt, and the retry 6 s after it comes after them.
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, { refuseMs: 12_000 });
    try {
      const list = writeList('retried.csv', ['id,from,to', `r,${url('rs', proxy.port)},${url('rd')}`]);
      const run = await bulk(['migrate', list, ...tls(), '--retries', '2'], { MAILFERRY_BULK_RETRY_BASE_MS: '6000' });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/^warning: r \(line 2\): .*refused.*; retrying in 6s$/m);
      expect((await status(list)).accounts[0]).toMatchObject({ state: 'done', attempts: 2 });
      await expectCopied('rs', 'rd');
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('bulk backup from a YAML list: defaults and a row\'s own folder apply, each account into its directory beside the list', async () => {
    const list = writeList('backups.yaml', [
      'defaults:',
      "  exclude: ['^Trash$']",
      'accounts:',
      `  - { id: b1, from: '${url('s01')}', to: backups/s01 }`,
      `  - { id: b2, from: '${url('s02')}', to: backups/s02, folder: INBOX }`,
    ]);
    const run = await bulk(['backup', list, '--from-ca', server.caFile, '--parallel', '2']);
    expect(run.code, run.stderr).toBe(0);
    const all = diffSnapshots(await snapshotAccount(addr('s01')), await snapshotBackup(join(work, 'backups/s01')), { ignoreFolders: ['Trash'] });
    expect(all.details).toEqual([]);
    const inbox = diffSnapshots(await snapshotAccount(addr('s02'), { folders: ['INBOX'] }), await snapshotBackup(join(work, 'backups/s02')));
    expect(inbox.details).toEqual([]);
    const snapshot = await status(list);
    expect(snapshot.command).toBe('backup');
    expect(snapshot.accounts.map((a) => [a.id, a.state, a.checkpoint])).toEqual([
      ['b1', 'done', join(work, 'backups/s01/.mailferry/state.sqlite')],
      ['b2', 'done', join(work, 'backups/s02/.mailferry/state.sqlite')],
    ]);
  }, 120_000);

  it('--from-admin: one administrator logs in for every row and opens each row\'s mailbox', async () => {
    const list = writeList('admin.csv', ['from,to', `${url('s03')},${url('ad1')}`, `${url('s04')},${url('ad2')}`]);
    const passwordFile = join(work, 'admin-password');
    writeFileSync(passwordFile, ADMIN_PASSWORD, { mode: 0o600 });
    const run = await bulk(['migrate', list, ...tls(), '--from-admin', 'admin', '--from-password-file', passwordFile]);
    expect(run.code, run.stderr).toBe(0);
    await expectCopied('s03', 'ad1');
    await expectCopied('s04', 'ad2');
    expect((await status(list)).accounts.map((a) => [a.from, a.state])).toEqual([[url('s03'), 'done'], [url('s04'), 'done']]);
  }, 120_000);

  it('no status file, account log, checkpoint or output holds the password', () => {
    const files = filesUnder(work).filter((f) => !f.endsWith('.csv'));
    expect(files.some((f) => f.endsWith('.status.sqlite'))).toBe(true);
    expect(files.some((f) => f.endsWith('.log'))).toBe(true);
    const stored = files.filter((f) => !f.endsWith('admin-password'));
    for (const secret of [PASSWORD, ADMIN_PASSWORD]) {
      expect(stored.filter((f) => readFileSync(f).includes(secret))).toEqual([]);
      expect(outputs.filter((o) => o.includes(secret))).toEqual([]);
    }
  });
});

describe('mailferry bulk refuses a bad list before anything starts (exit 2, every problem named)', () => {
  const row = (i: number) => `${url(`s${pad(i)}`)},${url(`d${pad(i)}`)}`;

  it('a missing column', async () => {
    const list = writeList('no-to.csv', ['from', url('s01')]);
    const run = await bulk(['migrate', list]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${list}:1: missing column to`);
    expect(existsSync(statusOf(list))).toBe(false);
  });

  it('an unknown column, a password column without the flag, a duplicate pair and a bad URL on line 17, all at once', async () => {
    const lines = ['from,to,colour,from_password', ...range(2, 16).map((i) => `${row(i)},red,`), 'imap//s17@nowhere,imap://d17@h,,'];
    lines[4] = `${row(3)},blue,`;
    const list = writeList('bad.csv', lines);
    const run = await bulk(['migrate', list]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${list}:1:3: unknown column "colour"`);
    expect(run.stderr).toContain(`${list}:1:4: a from_password column needs --allow-passwords-in-list`);
    expect(run.stderr).toMatch(new RegExp(`${list}:5: the account pair .* is already on line 3`));
    expect(run.stderr).toContain(`${list}:17:1: from: not a URL`);
    expect(run.stderr).toContain(`${list}: 4 problems; nothing was started`);
    expect(existsSync(statusOf(list))).toBe(false);
  });

  it('a list that cannot be read', async () => {
    const missing = join(work, 'missing.csv');
    const dir = join(work, 'a-directory.csv');
    mkdirSync(dir);
    for (const list of [missing, dir]) {
      const run = await bulk(['migrate', list]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^error: ${list}: cannot read the account list: (ENOENT|EISDIR)$`, 'm'));
      expect(existsSync(statusOf(list))).toBe(false);
    }
  });

  it('password columns: refused without --allow-passwords-in-list, and with it from a list others can read', async () => {
    const lines = ['from,to,from_password,to_password', `${row(1)},${PASSWORD},${PASSWORD}`];
    const open = writeList('passwords.csv', lines, 0o644);
    const without = await bulk(['migrate', open]);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain(`${open}:1:3: a from_password column needs --allow-passwords-in-list`);
    expect(without.stderr).toContain(`${open}:1:4: a to_password column needs --allow-passwords-in-list`);
    const readable = await bulk(['migrate', open, '--allow-passwords-in-list']);
    expect(readable.code).toBe(2);
    expect(readable.stderr).toContain(`${open}:1: the list holds passwords but its mode is 0644: make it 0600`);
    for (const run of [without, readable]) expect(run.stderr).not.toContain(PASSWORD);
    expect(existsSync(statusOf(open))).toBe(false);
  });

  it('a YAML list: defaults at the top, problems with their lines', async () => {
    const list = writeList('bad.yaml', ['defaults:', '  folder: [INBOX]', '  since: yesterday', 'accounts:', `  - from: ${url('s01')}`, `    to: ${url('d01')}`, `  - from: ${url('s02')}`, '    id: "has space"']);
    const run = await bulk(['migrate', list]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`${list}:3:3: defaults: --since: not a date or an age: yesterday`));
    expect(run.stderr).toMatch(new RegExp(`${list}:7:5: to: missing`));
    expect(run.stderr).toMatch(new RegExp(`${list}:8:5: id: `));
  });
});

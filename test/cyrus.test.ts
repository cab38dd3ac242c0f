// Cyrus IMAP 3 as the second real server: migrate to and from it in both of its namespaces, back
// up from it and restore into Dovecot, kill -9 into it; and its default munge8bit, which rewrites
// raw 8-bit header bytes on APPEND. Cyrus comes unpacked by scripts/install-cyrus.sh (CI runs it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { cyrusMissing, startCyrus, type CyrusServer } from '../src/sandbox/cyrus-server.js';
import { corpusFolders, generateCorpus, type CorpusOptions } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';
import { snapshotBackup } from './support/backup-snapshot.js';
import { runCli, startCli } from './support/cli.js';
import { prng } from './support/prng.js';

const missing = cyrusMissing();
if (missing) console.warn(`test/cyrus.test.ts skipped: ${missing}`);

const PASSWORD = 'pw-Cyrus-8';
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
/** Nested and non-ASCII folders (all 16 of the corpus' own), keywords, raw 8-bit headers, and 20 MB. */
const CORPUS: CorpusOptions = { seed: 808, messages: 300, folders: 18, bigMessages: [20_000_000] };
const TOTAL = CORPUS.messages + 1;
const MUNGE_CORPUS: CorpusOptions = { seed: 809, messages: 80, folders: 16 };

type Server = { host: string; port: number; caFile: string };
const work = mkdtempSync(join(tmpdir(), 'mf-cyrus-'));
let dovecot: DovecotServer;
const cyrus: Record<'default' | 'alt' | 'munge', CyrusServer | undefined> = { default: undefined, alt: undefined, munge: undefined };

const addr = (s: Server, user: string) => ({ host: s.host, port: s.port, user, password: PASSWORD });
const url = (s: Server, user: string) => `imap://${user}@${s.host}:${s.port}`;
const snapshot = (s: Server, user: string) => snapshotAccount(addr(s, user));

function migrateArgs(from: Server, fromUser: string, to: Server, toUser: string, state: string): string[] {
  return ['migrate', '--from', url(from, fromUser), '--from-ca', from.caFile, '--to', url(to, toUser), '--to-ca', to.caFile, '--state', join(work, state), '--json'];
}

async function migrate(from: Server, fromUser: string, to: Server, toUser: string, state: string) {
  const run = await runCli(migrateArgs(from, fromUser, to, toUser, state), env);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { totals: Record<string, number>; folders: Array<{ alteredByServer: unknown[] }> };
}

/** Where a Dovecot folder lands in Cyrus' default namespace: below `INBOX.`, INBOX itself stays. */
const underInbox = (folder: string) => (folder === 'INBOX' ? 'INBOX' : `INBOX/${folder}`);

function expectEqual(expected: Snapshot, actual: Snapshot, folderMap?: (f: string) => string): void {
  const diff = diffSnapshots(expected, actual, { folderMap });
  expect(diff.details).toEqual([]);
  expect(diff.equal).toBe(true);
}

describe.skipIf(missing !== undefined)('Cyrus IMAP 3.6 as the second real server', () => {
  beforeAll(async () => {
    [dovecot, cyrus.default, cyrus.alt, cyrus.munge] = await Promise.all([
      startDovecot({ users: ['src', 'msrc', 'back-default', 'back-alt', 'rest'].map((name) => ({ name, password: PASSWORD })) }),
      startCyrus({ users: ['dst', 'killed'].map((name) => ({ name, password: PASSWORD })), munge8bit: false }),
      startCyrus({ users: [{ name: 'dst', password: PASSWORD }], namespace: 'alt', munge8bit: false }),
      startCyrus({ users: [{ name: 'dst', password: PASSWORD }], munge8bit: true }),
    ]);
    await Promise.all([
      seedAccount(addr(dovecot, 'src'), generateCorpus(CORPUS), { folders: corpusFolders(CORPUS) }),
      seedAccount(addr(dovecot, 'msrc'), generateCorpus(MUNGE_CORPUS), { folders: corpusFolders(MUNGE_CORPUS) }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([dovecot?.stop(), ...Object.values(cyrus).map((c) => c?.stop())]);
    rmSync(work, { recursive: true, force: true });
  });

  describe.each([
    ['default', 'INBOX. prefix, separator "."', underInbox],
    ['alt', 'altnamespace + unixhierarchysep, separator "/"', undefined],
  ] as const)('namespace %s (%s)', (ns, _what, folderMap) => {
    it('Dovecot -> Cyrus: the oracle is equal, and a rerun copies 0', async () => {
      const first = await migrate(dovecot, 'src', cyrus[ns]!, 'dst', `to-${ns}.sqlite`);
      expect(first.totals).toMatchObject({ copied: TOTAL, failed: 0, alteredByServer: 0 });
      expectEqual(await snapshot(dovecot, 'src'), await snapshot(cyrus[ns]!, 'dst'), folderMap);
      const again = await migrate(dovecot, 'src', cyrus[ns]!, 'dst', `to-${ns}.sqlite`);
      expect(again.totals).toMatchObject({ copied: 0, failed: 0 });
    }, 120_000);

    it('Cyrus -> Dovecot: the oracle is equal to the original account, and a rerun copies 0', async () => {
      const first = await migrate(cyrus[ns]!, 'dst', dovecot, `back-${ns}`, `from-${ns}.sqlite`);
      expect(first.totals).toMatchObject({ copied: TOTAL, failed: 0 });
      expectEqual(await snapshot(dovecot, 'src'), await snapshot(dovecot, `back-${ns}`));
      const again = await migrate(cyrus[ns]!, 'dst', dovecot, `back-${ns}`, `from-${ns}.sqlite`);
      expect(again.totals).toMatchObject({ copied: 0, failed: 0 });
    }, 120_000);
  });

  it('backup from Cyrus equals the account; restoring one folder of it into Dovecot equals that folder', async () => {
    const c = cyrus.default!;
    const dir = join(work, 'backup');
    const backup = await runCli(['backup', '--from', url(c, 'dst'), '--from-ca', c.caFile, '--to', dir, '--json'], env);
    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout).totals).toMatchObject({ copied: TOTAL, failed: 0 });
    const cyrusSnapshot = await snapshot(c, 'dst');
    expectEqual(cyrusSnapshot, await snapshotBackup(dir), (f) => f.replace(/^INBOX\//, ''));

    const folder = 'Ящик/Входящие';
    const restore = await runCli(['restore', '--from', dir, '--folder', folder, '--to', url(dovecot, 'rest'), '--to-ca', dovecot.caFile, '--state', join(work, 'restore.sqlite'), '--json'], env);
    expect(restore.code, restore.stderr).toBe(0);
    const restored = await snapshot(dovecot, 'rest');
    const original = (await snapshot(dovecot, 'src')).get(folder)!;
    expect(original.length).toBeGreaterThan(0);
    expectEqual(new Map([[folder, original]]), new Map([[folder, restored.get(folder) ?? []]]));
  }, 120_000);

  it('kill -9 during a migrate into Cyrus, three times, then a rerun: every message exactly once', async () => {
    const c = cyrus.default!;
    const args = migrateArgs(dovecot, 'src', c, 'killed', 'killed.sqlite');
    const random = prng(808);
    // A full run takes several seconds here: kills land 0.4-2 s in, while it is appending.
    let killed = 0;
    for (let round = 0; round < 3; round++) {
      const started = Date.now();
      const { child, done } = startCli(args, env);
      await new Promise((r) => setTimeout(r, 400 + random() * 1600));
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        killed++;
      }
      const result = await done;
      if (result.signal === null) expect(result.code, `${result.stderr} after ${Date.now() - started} ms`).toBe(0);
    }
    expect(killed).toBeGreaterThan(0);
    const last = await runCli(args, env);
    expect(last.code, last.stderr).toBe(0);
    const diff = diffSnapshots(await snapshot(dovecot, 'src'), await snapshot(c, 'killed'), { folderMap: underInbox });
    expect(diff.duplicates).toBe(0);
    expect(diff.details).toEqual([]);
  }, 180_000);

  describe('munge8bit: yes (Cyrus\' default) rewrites raw 8-bit header bytes as X', () => {
    // The corpus' messages with a raw 8-bit header byte (a UTF-8 Subject, as broken mailers send it).
    const expectedAltered = [...generateCorpus(MUNGE_CORPUS)].filter((m) => m.raw.subarray(0, m.raw.indexOf('\r\n\r\n')).some((byte) => byte >= 0x80)).length;

    it('the copies are counted and named as altered by the server', async () => {
      expect(expectedAltered).toBeGreaterThan(0);
      const run = await migrate(dovecot, 'msrc', cyrus.munge!, 'dst', 'munge.sqlite');
      expect(run.totals).toMatchObject({ copied: MUNGE_CORPUS.messages, failed: 0, alteredByServer: expectedAltered });
      expect(run.folders.flatMap((f) => f.alteredByServer)).toHaveLength(expectedAltered);
      // The server really changed them: byte for byte, that many differ.
      const diff = diffSnapshots(await snapshot(dovecot, 'msrc'), await snapshot(cyrus.munge!, 'dst'), { folderMap: underInbox });
      expect({ missing: diff.missing, extra: diff.extra }).toEqual({ missing: expectedAltered, extra: expectedAltered });
    }, 60_000);

    it('a rerun with the checkpoint deleted copies 0', async () => {
      rmSync(join(work, 'munge.sqlite'));
      const run = await migrate(dovecot, 'msrc', cyrus.munge!, 'dst', 'munge.sqlite');
      expect(run.totals).toMatchObject({ copied: 0, present: MUNGE_CORPUS.messages, failed: 0 });
      const stored = [...(await snapshot(cyrus.munge!, 'dst')).values()].reduce((n, t) => n + t.length, 0);
      expect(stored).toBe(MUNGE_CORPUS.messages);
    }, 60_000);

    it('verify reports them as altered, not as missing plus extra, and exits 0', async () => {
      const c = cyrus.munge!;
      const run = await runCli(['verify', '--from', url(dovecot, 'msrc'), '--from-ca', dovecot.caFile, '--to', url(c, 'dst'), '--to-ca', c.caFile, '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { folders: Array<{ missing: unknown[]; extra: unknown[]; altered: unknown[] }> };
      expect(report.folders.flatMap((f) => [...f.missing, ...f.extra])).toEqual([]);
      expect(report.folders.flatMap((f) => f.altered)).toHaveLength(expectedAltered);
    }, 60_000);
  });
});

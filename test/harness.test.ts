// Specifications for the test harness itself: the sandbox Dovecot, the corpus, the seeder and
// the oracle. Every other end-to-end test trusts these, so they are checked against each other.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus, KEYWORDS, type CorpusMessage, type CorpusOptions } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount, type AccountAddress } from '../src/sandbox/seed.js';
import { diffSnapshots, expectedSnapshot, snapshotAccount, type Snapshot, type Tuple } from './support/oracle.js';

const CORPUS: CorpusOptions = { seed: 20240601, messages: 300 };

describe('corpus', () => {
  const messages = [...generateCorpus(CORPUS)];
  const header = (m: CorpusMessage) => m.raw.subarray(0, m.raw.indexOf('\r\n\r\n'));
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('is a pure function of the seed', () => {
    const digest = (opts: CorpusOptions) => {
      const h = createHash('sha256');
      for (const m of generateCorpus(opts)) h.update(`${m.folder}|${m.flags.join(' ')}|${m.internalDate.getTime()}|`).update(m.raw);
      return h.digest('hex');
    };
    expect(digest(CORPUS)).toBe(digest(CORPUS));
    expect(digest({ ...CORPUS, seed: CORPUS.seed + 1 })).not.toBe(digest(CORPUS));
  });

  it('produces only non-empty CRLF messages of log-normal sizes', () => {
    expect(messages).toHaveLength(300);
    for (const m of messages) {
      expect(m.raw.length).toBeGreaterThan(0);
      expect(m.raw.toString('latin1')).not.toMatch(/[^\r]\n|\r(?!\n)/);
      expect(m.raw.length).toBeLessThan(3_100_000);
    }
    const sizes = messages.map((m) => m.raw.length).sort((a, b) => a - b);
    expect(sizes[150]).toBeGreaterThan(3_000);
    expect(sizes[150]).toBeLessThan(12_000);
    expect(sizes[0]).toBeLessThan(600);
    expect(messages.some((m) => m.raw.includes('Content-Transfer-Encoding: base64'))).toBe(true);
  });

  it('has the folder tree: special-use, nested, non-ASCII, "&" and spaces', () => {
    const folders = corpusFolders(CORPUS);
    const paths = folders.map((f) => f.path);
    expect(paths).toHaveLength(16);
    expect(paths).toEqual(expect.arrayContaining(['INBOX', 'Work/Projects/2024', 'Économie', '日本語', 'Ящик/Входящие', 'R&D', 'Mailing Lists/dovecot']));
    expect(folders.filter((f) => f.specialUse).map((f) => f.specialUse)).toEqual(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']);
    for (const p of paths) if (p.includes('/')) expect(paths).toContain(p.slice(0, p.lastIndexOf('/')));
    expect(new Set(messages.map((m) => m.folder))).toEqual(new Set(paths));
    expect(corpusFolders({ ...CORPUS, folders: 20 }).map((f) => f.path).slice(16)).toEqual(['Bulk', 'Bulk/Folder 001', 'Bulk/Folder 002', 'Bulk/Folder 003']);
  });

  it('has the hostile messages: no Message-ID, reused Message-ID, exact duplicates, 8-bit headers, From lines', () => {
    const ids = new Map<string, Set<string>>();
    for (const m of messages) {
      const id = /^Message-ID: (.*)$/m.exec(header(m).toString('latin1'))?.[1];
      if (id) ids.set(id, (ids.get(id) ?? new Set()).add(sha(m.raw)));
    }
    expect(messages.filter((m) => !header(m).includes('Message-ID:')).length).toBeGreaterThan(0);
    expect([...ids.values()].some((hashes) => hashes.size > 1)).toBe(true);
    const copies = new Map<string, number>();
    for (const m of messages) copies.set(`${m.folder}\0${sha(m.raw)}`, (copies.get(`${m.folder}\0${sha(m.raw)}`) ?? 0) + 1);
    expect([...copies.values()].some((n) => n > 1)).toBe(true);
    expect(messages.some((m) => header(m).some((byte) => byte >= 0x80))).toBe(true);
    expect(messages.some((m) => header(m).includes('Subject: café'))).toBe(true);
    expect(messages.some((m) => m.raw.includes('\r\nFrom ') && m.raw.includes('\r\n>From '))).toBe(true);
  });

  it('has flags, keywords, 20 years of dates and zoned Date headers', () => {
    const flags = new Set(messages.flatMap((m) => m.flags));
    expect([...flags].sort()).toEqual(['\\Answered', '\\Draft', '\\Flagged', '\\Seen', ...KEYWORDS].sort());
    expect(messages.some((m) => m.flags.length === 0)).toBe(true);
    const years = messages.map((m) => m.internalDate.getUTCFullYear());
    expect(Math.min(...years)).toBeLessThanOrEqual(2008);
    expect(Math.max(...years)).toBeGreaterThanOrEqual(2024);
    expect(years.every((y) => y >= 2006 && y < 2026)).toBe(true);
    expect(messages.every((m) => m.internalDate.getUTCMilliseconds() === 0)).toBe(true);
    const zones = new Set(messages.map((m) => /^Date: .* ([+-]\d{4})\r$/m.exec(header(m).toString('latin1') + '\r')?.[1]));
    for (const z of ['+0900', '-0500', '+0530', '+0000']) expect(zones).toContain(z);
  });

  it('adds big messages with attachments, or text only when textHeavy', () => {
    const big = [...generateCorpus({ seed: 1, messages: 0, bigMessages: [2_000_000] })];
    expect(big).toHaveLength(1);
    expect(Math.abs(big[0]!.raw.length - 2_000_000)).toBeLessThan(20_000);
    expect(big[0]!.raw.includes('Content-Transfer-Encoding: base64')).toBe(true);
    const text = [...generateCorpus({ seed: 1, messages: 0, bigMessages: [300_000], textHeavy: true })];
    expect(text[0]!.raw.includes('base64')).toBe(false);
    expect(text[0]!.raw.length).toBeGreaterThan(290_000);
  });
});

describe('sandbox Dovecot, seeder and oracle', () => {
  let server: DovecotServer;
  let src: AccountAddress;
  let dst: AccountAddress;
  let seeded: { messages: number; bytes: number };

  beforeAll(async () => {
    server = await startDovecot({ users: [{ name: 'src', password: 'src-secret' }, { name: 'dst', password: 'dst: secret' }] });
    src = { host: server.host, port: server.port, user: 'src', password: 'src-secret' };
    dst = { host: server.host, port: server.port, user: 'dst', password: 'dst: secret' };
    seeded = await seedAccount(src, generateCorpus(CORPUS), { folders: corpusFolders(CORPUS) });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('seeds every message', () => {
    const corpus = [...generateCorpus(CORPUS)];
    expect(seeded).toEqual({ messages: 300, bytes: corpus.reduce((n, m) => n + m.raw.length, 0) });
  });

  it('snapshots read back the seeded bytes, flags and INTERNALDATE', async () => {
    const snapshot = await snapshotAccount(src);
    const diff = diffSnapshots(expectedSnapshot(generateCorpus(CORPUS)), snapshot);
    expect(diff.details).toEqual([]);
    expect(diff.equal).toBe(true);
    // The special-use folders come from the server config and exist even when empty.
    expect([...snapshot.keys()]).toEqual(expect.arrayContaining(corpusFolders(CORPUS).map((f) => f.path)));
  });

  it('snapshots change nothing: two in a row are equal, UIDs included', async () => {
    const first = await snapshotAccount(src);
    const second = await snapshotAccount(src);
    expect(diffSnapshots(first, second).equal).toBe(true);
    expect(second).toEqual(first);
  });

  it('an empty destination is all missing', async () => {
    const diff = diffSnapshots(await snapshotAccount(src), await snapshotAccount(dst));
    expect(diff).toMatchObject({ missing: 300, extra: 0, duplicates: 0, flagMismatch: 0, dateMismatch: 0, equal: false });
  });

  it('snapshots only the requested folders', async () => {
    const snapshot = await snapshotAccount(src, { folders: ['Work/Projects/2024', 'R&D'] });
    expect([...snapshot.keys()].sort()).toEqual(['R&D', 'Work/Projects/2024']);
  });

  it('serves implicit TLS with a certificate for localhost from the test CA', async () => {
    const ca = readFileSync(server.caFile);
    const client = new ImapFlow({
      host: 'localhost', port: server.tlsPort, secure: true, tls: { ca },
      auth: { user: 'src', pass: 'src-secret' }, logger: false,
    });
    await client.connect();
    expect(client.authenticated).toBe(true);
    await client.logout();
    const wrong = new X509Certificate(readFileSync(server.wrongCertFile));
    expect(wrong.checkIssued(new X509Certificate(ca))).toBe(true);
    expect(wrong.checkHost('localhost')).toBeUndefined();
    expect(wrong.checkHost('wrong.example')).toBe('wrong.example');
  });

  it('adds users without a reload, with userdb extra fields', async () => {
    await server.addUser({ name: 'full', password: 'x', extra: 'userdb_quota_rule=*:storage=200K' });
    const quota = await server.doveadm(['quota', 'get', '-u', 'full']);
    expect(quota).toMatch(/STORAGE\s+0\s+200\b/);
    const snapshot = await snapshotAccount({ ...src, user: 'full', password: 'x' });
    expect([...snapshot.values()].flat()).toEqual([]);
    expect(existsSync(`${server.mailHome('full')}/Maildir`)).toBe(true);
    await expect(server.doveadm(['quota', 'get', '-u', 'nobody-here'])).rejects.toThrow(/doveadm quota get/);
  });
});

describe('diffSnapshots', () => {
  const t = (sha256: string, flags: string[] = [], internalDate = 1000, uid = 1): Tuple => ({ sha256, flags, internalDate, size: 10, uid });

  it('uses multiset semantics per folder', () => {
    const expected: Snapshot = new Map([['INBOX', [t('a'), t('a'), t('b')]], ['Empty', []]]);
    const actual: Snapshot = new Map([['INBOX', [t('a'), t('b'), t('b'), t('c')]]]);
    const diff = diffSnapshots(expected, actual);
    expect(diff).toMatchObject({ missing: 1, extra: 2, duplicates: 1, flagMismatch: 0, dateMismatch: 0, equal: false });
    expect(diff.details).toHaveLength(3);
  });

  it('matches identical tuples before counting flag and date mismatches', () => {
    const expected: Snapshot = new Map([['INBOX', [t('a', ['\\Seen']), t('a', []), t('b', [], 1000)]]]);
    const actual: Snapshot = new Map([['INBOX', [t('a', []), t('a', ['\\Flagged']), t('b', [], 2000)]]]);
    expect(diffSnapshots(expected, actual)).toMatchObject({ missing: 0, extra: 0, flagMismatch: 1, dateMismatch: 1, equal: false });
  });

  it('maps and ignores folders; empty equals absent; one-sided folders count', () => {
    const expected: Snapshot = new Map([['A', [t('a')]], ['Skip', [t('s')]], ['Empty', []]]);
    expect(diffSnapshots(expected, new Map([['X/A', [t('a')]]]), { folderMap: (f) => `X/${f}`, ignoreFolders: ['Skip', 'X/Skip'] }).equal).toBe(true);
    expect(diffSnapshots(expected, new Map([['A', [t('a')]], ['Skip', [t('s')]], ['Other', []]])).equal).toBe(true);
    expect(diffSnapshots(expected, new Map([['B', [t('a')]], ['Skip', [t('s')]]]))).toMatchObject({ missing: 1, extra: 1, duplicates: 0 });
  });
});

describe('sandbox lifecycle', () => {
  it('supports the Maildir++ layout, and stop() leaves no process and no directory', async () => {
    const server = await startDovecot({ users: [{ name: 'u', password: 'p' }], layout: 'maildir++' });
    const addr = { host: server.host, port: server.port, user: 'u', password: 'p' };
    const opts = { seed: 7, messages: 40 };
    await seedAccount(addr, generateCorpus(opts), { folders: corpusFolders(opts) });
    const snapshot = await snapshotAccount(addr);
    expect(snapshot.get('Work/Projects/2024')?.length).toBeGreaterThan(0);
    expect(diffSnapshots(expectedSnapshot(generateCorpus(opts)), snapshot).equal).toBe(true);

    const pid = Number(readFileSync(`${server.dir}/run/master.pid`, 'utf8'));
    expect(processesUsing(server.dir).length).toBeGreaterThan(0);
    await server.stop();
    expect(isRunning(pid)).toBe(false);
    expect(processesUsing(server.dir)).toEqual([]);
    expect(existsSync(server.dir)).toBe(false);
    await server.stop(); // idempotent
  });
});

/** Live (non-zombie) state of a PID; a reparented daemon may wait a while for its reaper. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** PIDs with an open file or cwd under dir (only our own processes unless we are root). */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const links = [readlinkSync(`/proc/${entry}/cwd`), ...readdirSync(`/proc/${entry}/fd`).map((fd) => readlinkSync(`/proc/${entry}/fd/${fd}`))];
      if (links.some((l) => l.startsWith(dir))) pids.push(Number(entry));
    } catch {
      // the process exited meanwhile, or it is not ours to inspect
    }
  }
  return pids;
}

import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { generateCorpus, type CorpusMessage } from '../src/sandbox/corpus.js';
import { labelKeyword } from '../src/stores/gmail/gmail-labels.js';
import { diffSnapshots, snapshotAccount, type Snapshot } from './support/oracle.js';
import { runCli } from './support/cli.js';
import { startGmailServer, type GmailServer } from './support/gmail-server.js';

// Gmail as a source, against a scriptable server that speaks X-GM-EXT-1 as Gmail does
// (test/support/gmail-server.ts), into a real Dovecot, and into a second Gmail account.

const PASSWORD = 'pw-Gmail-6';
const work = mkdtempSync(join(tmpdir(), 'mf-gmail-'));
let gmail: GmailServer;
let dovecot: DovecotServer;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };

/** Where each generated message lives in Gmail: the corpus folder becomes labels or a location. */
function gmailPlace(m: CorpusMessage, i: number): { labels: string[]; location: 'mail' | 'spam' | 'trash' } {
  const extra = [...(i % 3 === 0 ? ['Work'] : []), ...(i % 5 === 0 ? ['\\Important'] : [])];
  switch (m.folder) {
    case 'INBOX': return { labels: ['\\Inbox', ...extra], location: 'mail' };
    case 'Sent': return { labels: ['\\Sent', ...extra], location: 'mail' };
    case 'Drafts': return { labels: ['\\Draft'], location: 'mail' };
    case 'Junk': return { labels: [], location: 'spam' };
    case 'Trash': return { labels: [], location: 'trash' };
    // Archived: in All Mail only (Important is a view, not a folder).
    case 'Archive': return { labels: i % 2 === 0 ? ['\\Important'] : [], location: 'mail' };
    default: return { labels: [...new Set([m.folder, ...extra])], location: 'mail' };
  }
}

beforeAll(async () => {
  [gmail, dovecot] = await Promise.all([
    startGmailServer({ users: ['alice', 'g2', 'g3'].map((name) => ({ name, password: PASSWORD })) }),
    startDovecot({ users: ['f1', 'k1', 't1', 'c1', 'e1'].map((name) => ({ name, password: PASSWORD })) }),
  ]);
  let i = 0;
  for (const m of generateCorpus({ seed: 61, messages: 160, folders: 12, maxSize: 400_000 })) {
    const place = gmailPlace(m, i++);
    gmail.addMessage('alice', { raw: m.raw, flags: m.flags, internalDate: m.internalDate, ...place });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([gmail?.close(), dovecot?.stop()]);
});

const fromGmail = (user = 'alice') => ['--from', `imap://${user}@127.0.0.1:${gmail.port}`];
const toDovecot = (user: string) => ['--to', `imap://${user}@${dovecot.host}:${dovecot.port}`, '--to-ca', dovecot.caFile];
const migrate = (args: string[], state: string) => runCli(['migrate', ...args, '--state', join(work, `${state}.sqlite`), '--json'], env);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What the destination must hold when each label is a folder, or with labels as keywords. */
function expected(mode: 'folders' | 'keywords'): Snapshot {
  const snap: Snapshot = new Map();
  const put = (folder: string, m: ReturnType<GmailServer['messages']>[number], extraFlags: string[] = []) => {
    const list = snap.get(folder) ?? [];
    snap.set(folder, list);
    list.push({ sha256: sha(m.raw), flags: [...new Set([...m.flags, ...extraFlags])].sort(), internalDate: Math.floor(m.internalDate.getTime() / 1000), size: m.raw.length, uid: 0 });
  };
  const SYSTEM: Record<string, string> = { '\\Inbox': 'INBOX', '\\Sent': 'Sent', '\\Draft': 'Drafts' };
  for (const m of gmail.messages('alice')) {
    if (m.location !== 'mail') {
      put(m.location === 'spam' ? 'Junk' : 'Trash', m);
      continue;
    }
    const folders = mode === 'folders'
      ? m.labels.filter((l) => l !== '\\Important' && l !== '\\Starred').map((l) => SYSTEM[l] ?? l)
      : m.labels.filter((l) => SYSTEM[l]).map((l) => SYSTEM[l]!);
    const keywords = mode === 'keywords' ? m.labels.filter((l) => !l.startsWith('\\') || l === '\\Important').map(labelKeyword) : [];
    for (const f of folders.length > 0 ? folders : ['Archive']) put(f, m, keywords);
  }
  return snap;
}

async function expectDovecotHolds(user: string, mode: 'folders' | 'keywords'): Promise<void> {
  const actual = await snapshotAccount({ host: dovecot.host, port: dovecot.port, user, password: PASSWORD });
  // Folders the harness creates empty at the destination are not part of the comparison.
  for (const [name, tuples] of actual) if (tuples.length === 0 && !expected(mode).has(name)) actual.delete(name);
  const diff = diffSnapshots(expected(mode), actual);
  expect(diff.details).toEqual([]);
}

describe('Gmail as the source', () => {
  it('copies each label as a folder, downloading every message once, and archived mail into Archive', async () => {
    const before = new Map(gmail.stats('alice').bodyFetches);
    const run = await migrate([...fromGmail(), ...toDovecot('f1')], 'f1');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    await expectDovecotHolds('f1', 'folders');
    const fetches = gmail.stats('alice').bodyFetches;
    for (const m of gmail.messages('alice')) expect((fetches.get(m.msgid) ?? 0) - (before.get(m.msgid) ?? 0), `downloads of ${m.msgid}`).toBe(1);

    const rerun = await migrate([...fromGmail(), ...toDovecot('f1')], 'f1');
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout).totals.copied).toBe(0);
    await expectDovecotHolds('f1', 'folders');
  });

  it('with --gmail-labels keywords, copies each message once, its labels as keywords', async () => {
    const run = await migrate([...fromGmail(), ...toDovecot('k1'), '--gmail-labels', 'keywords'], 'k1');
    expect(run.code).toBe(0);
    await expectDovecotHolds('k1', 'keywords');
  });

  it('backs up to Maildir the same way, and verify finds the backup equal to the account', async () => {
    const dir = join(work, 'backup');
    const run = await runCli(['backup', ...fromGmail(), '--to', dir, '--json'], env);
    expect(run.code).toBe(0);
    const made = JSON.parse(run.stdout).folders.map((f: { destination: string }) => f.destination) as string[];
    expect(made).toHaveLength(expected('folders').size);
    expect(made.filter((d) => /Important|Starred|All Mail/.test(d))).toEqual([]);
    const check = await runCli(['verify', ...fromGmail(), '--to', dir], env);
    expect(check.stdout).toMatch(/equal/i);
    expect(check.code).toBe(0);
  });

  it('Gmail to Gmail keeps labels, uploading each message once', async () => {
    const run = await runCli(['migrate', ...fromGmail(), '--to', `imap://g2@127.0.0.1:${gmail.port}`, '--state', join(work, 'g2.sqlite'), '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const source = gmail.messages('alice');
    expect(gmail.stats('g2').appends).toBe(source.length);
    const key = (m: (typeof source)[number]) => JSON.stringify([sha(m.raw), m.location, [...m.labels].sort(), [...m.flags].sort(), Math.floor(m.internalDate.getTime() / 1000)]);
    expect(gmail.messages('g2').map(key).sort()).toEqual(source.map(key).sort());
    const rerun = await runCli(['migrate', ...fromGmail(), '--to', `imap://g2@127.0.0.1:${gmail.port}`, '--state', join(work, 'g2.sqlite'), '--json'], env);
    expect(rerun.code).toBe(0);
    expect(gmail.stats('g2').appends).toBe(source.length);
  });

  it('Gmail to Gmail: a connection lost between an APPEND and its labels still ends with the labels set, nothing uploaded twice', async () => {
    gmail.inject({ match: /STORE \S+ X-GM-LABELS/, after: 3, reply: 'bye' });
    const run = await runCli(['migrate', ...fromGmail(), '--to', `imap://g3@127.0.0.1:${gmail.port}`, '--state', join(work, 'g3.sqlite'), '--json'], env);
    expect(run.code).toBe(0);
    expect(gmail.injections().at(-1)!.fired).toBe(1);
    const source = gmail.messages('alice');
    const key = (m: (typeof source)[number]) => JSON.stringify([sha(m.raw), m.location, [...m.labels].sort(), [...m.flags].sort()]);
    expect(gmail.messages('g3').map(key).sort()).toEqual(source.map(key).sort());
    expect(gmail.stats('g3').appends).toBe(source.length);
  });

  it('pauses on [THROTTLED] and finishes with nothing lost or duplicated', async () => {
    gmail.inject({ match: /UID FETCH .*BODY\.PEEK\[\]/, after: 2, reply: 'throttled' });
    const started = Date.now();
    const run = await migrate([...fromGmail(), ...toDovecot('t1')], 't1');
    expect(run.code).toBe(0);
    expect(gmail.injections().at(-1)!.fired).toBe(1);
    expect(run.stderr).toMatch(/is throttling \(fetching from .*\): Account exceeded command or bandwidth limits.*; pausing every connection for 5\.0 s, then resuming/);
    expect(Date.now() - started).toBeGreaterThan(4_000);
    await expectDovecotHolds('t1', 'folders');
  });

  it('stops with exit 6 at the profile\'s daily download cap and resumes cleanly', async () => {
    const total = gmail.messages('alice').reduce((a, m) => a + m.raw.length, 0);
    const profiles = join(work, 'small-cap.json');
    writeFileSync(profiles, JSON.stringify({ gmail: { limits: { dailyBytesDown: Math.floor(total / 3) } } }));
    const capped = ['--from-profile', 'gmail', '--profile-file', profiles];
    const first = await migrate([...fromGmail(), ...toDovecot('c1'), ...capped], 'c1');
    expect(first.code).toBe(6);
    expect(first.stderr).toMatch(/profile gmail: --daily-limit-down \d+/);
    expect(first.stderr).toMatch(/^error: daily download limit of .* reached .*; rerun after \d{4}-\d\d-\d\d 00:00 UTC resumes$/m);
    // The next day, as far as the cap is concerned.
    const next = await migrate([...fromGmail(), ...toDovecot('c1'), ...capped, '--daily-limit-down', String(total * 10)], 'c1');
    expect(next.code).toBe(0);
    await expectDovecotHolds('c1', 'folders');
  });

  it('a message Gmail twice answers without its bytes is failed in each of its label folders, never copied empty, and the next run copies it', async () => {
    // Every FETCH of bytes answered OK with nothing: each message is looked for, fetched again, then failed.
    gmail.inject({ match: /UID FETCH .*BODY\.PEEK\[\]/, times: 1_000_000, reply: (tag) => `${tag} OK Success\r\n` });
    const first = await migrate([...fromGmail(), ...toDovecot('e1')], 'e1');
    gmail.clearInjections();
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/ UID \d+: damaged-source: .* twice answered a FETCH of it without the message$/m);
    // Not one sent without its bytes (Dovecot refuses an empty APPEND, which would read `rejected`).
    const failures = (JSON.parse(first.stdout) as { folders: Array<{ failures: Array<{ reason: string }> }> }).folders.flatMap((f) => f.failures);
    expect(failures.length).toBeGreaterThan(0);
    expect(new Set(failures.map((f) => f.reason))).toEqual(new Set(['damaged-source']));
    const copied = await snapshotAccount({ host: dovecot.host, port: dovecot.port, user: 'e1', password: PASSWORD });
    expect([...copied.values()].flat(), 'messages were copied without their bytes').toEqual([]);

    const rerun = await migrate([...fromGmail(), ...toDovecot('e1')], 'e1');
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectDovecotHolds('e1', 'folders');
  });
});

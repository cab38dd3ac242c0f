import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus, type CorpusMessage } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli, type CliRun } from './support/cli.js';
import { snapshotAccount, type Snapshot } from './support/oracle.js';
import { startFaultProxy } from './support/imap-fault-proxy.js';
import { startSlowLink } from './support/slow-link.js';

const PASSWORD = 'pw-Browse-10';
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-browse-'));
const at = (name: string): string => path.join(work, name);
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, XDG_STATE_HOME: at('state') };
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string, port = server.port) => `imap://${user}@${server.host}:${port}`;
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

async function cli(args: string[], code = 0): Promise<CliRun> {
  const run = await runCli(args, env);
  expect(run.code, run.stderr).toBe(code);
  return run;
}
/** An account SOURCE with the sandbox's CA. */
const live = (user: string, args: string[], port?: number): string[] => [args[0]!, url(user, port), ...args.slice(1), '--from-ca', server.caFile];

const ATTACHMENT = Buffer.from('attached bytes \u0000\u00ff', 'latin1');
const HOSTILE_NAME = '../../outside/\u0007évil..txt';
const date = new Date(Date.UTC(2024, 2, 5, 10, 0, 0));

/** A multipart message: a quoted-printable UTF-8 text part and a base64 attachment of `attachment` bytes. */
function multipart(subject: string, text: string, attachment: Buffer, name: string): Buffer {
  const b64 = attachment.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      'From: =?UTF-8?Q?Chlo=C3=A9_Dubois?= <chloe@example.fr>',
      'To: bob@example.com',
      `Subject: ${subject}`,
      'Date: Tue, 05 Mar 2024 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b-1"',
      '',
      '--b-1',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      text,
      '--b-1',
      'Content-Type: application/octet-stream',
      `Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent(name)}`,
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      '--b-1--',
      '',
    ].join('\r\n'),
  );
}

const FILES: CorpusMessage[] = [
  { folder: 'Files', raw: multipart('Report =?UTF-8?Q?=C3=A9t=C3=A9?=', 'Gr=C3=BC=C3=9Fe aus K=C3=B6ln =E2=82=AC', ATTACHMENT, HOSTILE_NAME), flags: ['\\Flagged'], internalDate: date },
  { folder: 'Files', raw: multipart('Dots', 'Second text', ATTACHMENT, '..'), flags: [], internalDate: date },
  { folder: 'Files', raw: Buffer.from('From: a@example.org\r\nSubject: plain one\r\n\r\nJust text.\r\n'), flags: ['\\Answered', '$Label1'], internalDate: date },
];
/** Big attachments: listing them and showing their text must not move their bodies. */
const BIG = [...Array.from({ length: 30 }, (_, i) => multipart(`big ${i + 1}`, `text of big ${i + 1}`, randomBytes(1_000_000), `big-${i + 1}.bin`)), multipart('huge', 'the text of the huge one', randomBytes(20_000_000), 'huge.bin')].map(
  (raw): CorpusMessage => ({ folder: 'Big', raw, flags: [], internalDate: date }),
);

const corpus = { seed: 10, messages: 60, folders: 16 };
let source: Snapshot;

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'big'].map((name) => ({ name, password: PASSWORD })) });
  await seedAccount(addr('src'), [...generateCorpus(corpus), ...FILES], { folders: [...corpusFolders(corpus), { path: 'Files' }] });
  await seedAccount(addr('big'), BIG, { folders: [{ path: 'INBOX' }, { path: 'Big' }] });
  source = await snapshotAccount(addr('src'));
  const backup = (to: string, extra: string[]) => cli(['backup', '--from', url('src'), '--from-ca', server.caFile, '--to', at(to), ...extra]);
  await backup('backup-maildir', ['--format', 'maildir', '--archive', at('maildir.zip')]);
  await backup('backup-mbox', ['--format', 'mbox', '--archive', at('mbox.tar.gz')]);
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

const counts = (s: Snapshot): Record<string, number> => Object.fromEntries([...s].map(([k, v]) => [k, v.length]));
const SOURCES = ['account', 'backup-maildir', 'backup-mbox', 'maildir.zip', 'mbox.tar.gz'];
const args = (kind: string, rest: string[]): string[] => (kind === 'account' ? live('src', rest) : [rest[0]!, at(kind), ...rest.slice(1)]);

describe('ls, show and export: an account and backups (directory, .zip, .tar.gz; Maildir and mbox) alike', () => {
  it.each(SOURCES)('%s: ls lists every folder with the count the server has', async (kind) => {
    const run = await cli(args(kind, ['ls', '--json']));
    const listing = JSON.parse(run.stdout) as { folders: Array<{ name: string; messages: number; bytes: number }> };
    expect(Object.fromEntries(listing.folders.map((f) => [f.name, f.messages]))).toEqual(counts(source));
    const bytes = (name: string) => source.get(name)!.reduce((a, t) => a + t.size, 0);
    for (const f of listing.folders) expect(f.bytes, f.name).toBe(bytes(f.name));
  });

  it.each(SOURCES)('%s: ls FOLDER gives each message\'s subject, sender, size and flags, newest first; --limit the newest', async (kind) => {
    const run = await cli(args(kind, ['ls', 'Files', '--json']));
    const listing = JSON.parse(run.stdout) as { total: number; messages: Array<{ uid: number; subject: string; from: string; size: number; flags: string[]; date: string }> };
    expect(listing.messages.map((m) => m.subject)).toEqual(['plain one', 'Dots', 'Report été']);
    expect(listing.messages[2]!.from).toBe('Chloé Dubois <chloe@example.fr>');
    expect(listing.messages[2]!.date).toBe('Tue, 05 Mar 2024 10:00:00 +0000');
    const byUid = [...source.get('Files')!].sort((a, b) => b.uid - a.uid);
    expect(listing.messages.map((m) => [m.size, [...m.flags].sort()])).toEqual(byUid.map((t) => [t.size, t.flags]));
    const text = await cli(args(kind, ['ls', 'Files', '--limit', '2']));
    expect(text.stdout).toMatch(/plain one[\s\S]*Dots/);
    expect(text.stdout).not.toContain('Report');
    expect(text.stdout).toContain('the newest 2 of 3 messages in Files');
  });

  it.each(SOURCES)('%s: show prints the headers, the decoded text and the other parts; --part and --raw give bytes', async (kind) => {
    const uid = kind === 'account' ? 1 : JSON.parse((await cli(args(kind, ['ls', 'Files', '--json']))).stdout).messages[2].uid;
    const run = await cli(args(kind, ['show', 'Files', String(uid)]));
    expect(run.stdout).toContain('Subject: Report été');
    expect(run.stdout).toContain('From: Chloé Dubois <chloe@example.fr>');
    expect(run.stdout).toContain('Grüße aus Köln €');
    expect(run.stdout).toMatch(/^2\s+application\/octet-stream\s+\.\.\/\.\.\/outside\/.*évil\.\.txt\s+\d+$/m);
    const part = await runCli(args(kind, ['show', 'Files', String(uid), '--part', '2']), env);
    expect(part.code, part.stderr).toBe(0);
    expect(Buffer.from(part.stdout, 'latin1').length).toBeGreaterThan(0);
    const raw = await cli(args(kind, ['show', 'Files', String(uid), '--raw']));
    expect(sha(raw.stdout)).toBe(sha(FILES[0]!.raw.toString()));
  });

  it.each(SOURCES)('%s: export writes FOLDER-UID.eml with the exact bytes (0600), and --part the attachment inside DIR under a safe name', async (kind) => {
    const listing = JSON.parse((await cli(args(kind, ['ls', 'Files', '--json']))).stdout) as { messages: Array<{ uid: number }> };
    const uids = listing.messages.map((m) => m.uid).sort((a, b) => a - b);
    const dir = at(`export-${kind}`);
    await cli(args(kind, ['export', 'Files', ...uids.map(String), '--to', dir]));
    const shas = await Promise.all(uids.map(async (uid) => sha(await fs.readFile(path.join(dir, `Files-${uid}.eml`)))));
    expect(shas.sort()).toEqual(source.get('Files')!.map((t) => t.sha256).sort());
    expect((await fs.stat(path.join(dir, `Files-${uids[0]}.eml`))).mode & 0o777).toBe(0o600);

    const parts = at(`parts-${kind}`);
    await cli(args(kind, ['export', 'Files', String(uids[0]), String(uids[1]), '--part', '2', '--to', parts]));
    const names = (await fs.readdir(parts)).sort();
    // The hostile name loses its directories, control character and `..`; a name of only dots falls back.
    expect(names).toEqual([`Files-${uids[1]}-part2.bin`, 'évil.txt'].sort());
    for (const n of names) expect(await fs.readFile(path.join(parts, n))).toEqual(ATTACHMENT);
    await expect(fs.access(path.join(work, 'outside'))).rejects.toThrow();
  });
});

describe('ls --search: the server picks the messages (UID SEARCH, criteria as written)', () => {
  it('ASCII, quoted UTF-8 (sent with CHARSET UTF-8) and grouped criteria list what a SEARCH run apart from mailferry finds', async () => {
    const subjects = async (criteria: string) => (JSON.parse((await cli(live('src', ['ls', 'Files', '--search', criteria, '--json']))).stdout) as { messages: Array<{ subject: string }> }).messages.map((m) => m.subject);
    expect(await subjects('SUBJECT Dots')).toEqual(['Dots']);
    expect(await subjects('SUBJECT "été"')).toEqual(['Report été']);
    // Dovecot would also take the UTF-8 without being told; the wire shows that it is told.
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, {});
    try {
      const run = await cli(live('src', ['ls', 'Files', '--search', 'SUBJECT "été"', '--json'], proxy.port));
      expect(JSON.parse(run.stdout).messages).toHaveLength(1);
      // 8-bit text is no quoted string (RFC 3501): it goes as a literal.
      expect(proxy.upstreamBytes().toString('utf8')).toMatch(/UID SEARCH CHARSET UTF-8 SUBJECT \{5\+?\}\r\nété/);
    } finally {
      await proxy.close();
    }
    expect(await subjects('OR (FLAGGED) (KEYWORD $Label1) NOT DELETED')).toEqual(['plain one', 'Report été']);
    const { connectPlain } = await import('../src/sandbox/seed.js');
    const client = await connectPlain(addr('src'));
    try {
      await client.mailboxOpen('Files', { readOnly: true });
      expect(await client.search({ or: [{ flagged: true }, { keyword: '$Label1' }] }, { uid: true })).toHaveLength(2);
    } finally {
      await client.logout();
    }
  });

  it('criteria the server refuses, unbalanced ones, and --search on a backup are usage errors (exit 2), in one line', async () => {
    const refused = await cli(live('src', ['ls', 'Files', '--search', 'OLDER 0']), 2);
    expect(refused.stderr).toMatch(/--search refused by the server in Files: /);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const open = await cli(live('src', ['ls', 'Files', '--search', '(FLAGGED']), 2);
    expect(open.stderr).toContain('--search: unmatched "("');
    const local = await cli(['ls', at('backup-maildir'), 'Files', '--search', 'ALL'], 2);
    expect(local.stderr).toContain('--search needs an account SOURCE');
  });
});

describe('an account: partial FETCH only, nothing marked read', () => {
  it('show of every Files message leaves every flag as it was (no \\Seen)', async () => {
    const before = await snapshotAccount(addr('src'), { folders: ['Files'] });
    for (const uid of [1, 2, 3]) await cli(live('src', ['show', 'Files', String(uid)]));
    await cli(live('src', ['show', 'Files', '1', '--part', '2']));
    await cli(live('src', ['export', 'Files', '1', '--part', '2', '--to', at('seen-check')]));
    expect(await snapshotAccount(addr('src'), { folders: ['Files'] })).toEqual(before);
  });

  it('ls of a folder of 30 messages with 1 MB attachments moves less than 30 KB; show of a 20 MB message\'s text less than 100 KB', async () => {
    const link = await startSlowLink({ host: server.host, port: server.port }, 1, 'down');
    link.rate = undefined;
    try {
      const ls = await cli(live('big', ['ls', 'Big', '--json'], link.port));
      expect(JSON.parse(ls.stdout).messages).toHaveLength(31);
      expect(link.bytes).toBeLessThan(30_000);

      link.bytes = 0;
      const show = await cli(live('big', ['show', 'Big', '31'], link.port));
      expect(show.stdout).toContain('the text of the huge one');
      expect(show.stdout).toMatch(/^2\s+application\/octet-stream\s+huge\.bin\s+\d{8}$/m);
      expect(link.bytes).toBeLessThan(100_000);

      // The whole message is moved only when asked for.
      link.bytes = 0;
      const dir = at('export-big');
      await cli(live('big', ['export', 'Big', '31', '--to', dir], link.port));
      expect(sha(await fs.readFile(path.join(dir, 'Big-31.eml')))).toBe(sha(BIG[30]!.raw));
      expect(link.bytes).toBeGreaterThan(20_000_000);
    } finally {
      await link.close();
    }
  });
});

describe('bad input: one line naming the cause, exit 2', () => {
  it.each([
    [['ls', 'NoSuchFolder'], /has no folder "NoSuchFolder"/],
    [['show', 'Files', '999'], /Files has no message with UID 999/],
    [['show', 'Files', 'abc'], /not a UID: abc/],
    [['show', 'Files', '1', '--part', '7'], /has no part 7 \(its parts: 1, 2\)/],
  ])('%j', async (rest, message) => {
    for (const kind of ['account', 'backup-mbox']) {
      const run = await cli(args(kind, rest as string[]), 2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('check takes a backup, not an account', async () => {
    const run = await cli(['check', url('src')], 2);
    expect(run.stderr).toContain('check reads a backup');
  });
});

describe('mail other programs wrote', () => {
  it('an mbox file: ls, show and export read it as restore --from does', async () => {
    const file = at('other.mbox');
    await fs.writeFile(file, 'From a@example.org Tue Mar  5 10:00:00 2024\nFrom: a@example.org\nSubject: first\n\nbody one\n\nFrom b@example.org Tue Mar  5 11:00:00 2024\nFrom: b@example.org\nSubject: second\n\nbody two\n');
    const folders = JSON.parse((await cli(['ls', file, '--json'])).stdout) as { folders: Array<{ name: string; messages: number }> };
    expect(folders.folders.map((f) => f.messages)).toEqual([2]);
    const name = folders.folders[0]!.name;
    const listing = JSON.parse((await cli(['ls', file, name, '--json'])).stdout) as { messages: Array<{ uid: number; subject: string }> };
    expect(listing.messages.map((m) => m.subject)).toEqual(['second', 'first']);
    const show = await cli(['show', file, name, String(listing.messages[1]!.uid)]);
    expect(show.stdout).toContain('Subject: first');
    expect(show.stdout).toContain('body one');
  });
});

describe('mailferry check', () => {
  it.each(['backup-maildir', 'backup-mbox', 'maildir.zip', 'mbox.tar.gz'])('%s: a fresh backup is good (exit 0)', async (kind) => {
    const run = await cli(['check', at(kind)]);
    expect(run.stdout).toMatch(/^GOOD: \d+ messages in 17 folders.*against the checkpoint's SHA-256/m);
    const json = JSON.parse((await cli(['check', at(kind), '--json'])).stdout);
    expect(json).toMatchObject({ checkpoint: true, problems: [], messages: [...source.values()].reduce((n, t) => n + t.length, 0) });
  });

  it('a Maildir backup with a truncated and a deleted message file, and a file no run wrote: each named, exit 1', async () => {
    const copy = at('rotted-maildir');
    await fs.cp(at('backup-maildir'), copy, { recursive: true });
    const cur = path.join(copy, 'Maildir', '.Files', 'cur');
    const files = (await fs.readdir(cur)).sort();
    await fs.truncate(path.join(cur, files[0]!), 10);
    await fs.rm(path.join(cur, files[1]!));
    await fs.writeFile(path.join(cur, '1700000000.M1P1.stray:2,S'), 'Subject: stray\r\n\r\nput here by hand\r\n');
    const run = await cli(['check', copy, '--json'], 1);
    const result = JSON.parse(run.stdout) as { problems: Array<{ folder: string; uid: number; kind: string }> };
    expect(result.problems.map((p) => [p.folder, p.kind]).sort()).toEqual([['Maildir/.Files', 'altered'], ['Maildir/.Files', 'missing'], ['Maildir/.Files', 'unindexed']]);
    const text = await cli(['check', copy], 1);
    expect(text.stdout).toMatch(/^MISSING {2}Maildir\/\.Files {2}UID \d+/m);
    expect(text.stdout).toMatch(/^DAMAGED: /m);
  });

  it('an mbox backup whose file was cut short: exit 1, naming the messages', async () => {
    const copy = at('rotted-mbox');
    await fs.cp(at('backup-mbox'), copy, { recursive: true });
    const file = path.join(copy, 'mbox', 'Files.mbox');
    const st = await fs.stat(file);
    await fs.truncate(file, st.size - 20);
    const run = await cli(['check', copy, '--json'], 1);
    const result = JSON.parse(run.stdout) as { problems: Array<{ folder: string; kind: string }> };
    expect(result.problems.length).toBeGreaterThan(0);
    expect(result.problems.every((p) => p.folder === 'mbox/Files.mbox')).toBe(true);
  });
});

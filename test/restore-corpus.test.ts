import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { walk } from './support/backup-snapshot.js';
import { runCli } from './support/cli.js';
import { snapshotAccount, type Snapshot, type Tuple } from './support/oracle.js';

// Real mail other programs wrote (../shared/corpus/README.md): beside the checkout, also in CI.
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const CORPUS = path.resolve(repoRoot, '../shared/corpus');
const GYB = path.join(CORPUS, 'gyb-samples');
const NOTMUCH = path.join(CORPUS, 'notmuch-corpora');
const present = existsSync(GYB) && existsSync(NOTMUCH);

const PASSWORD = 'pw-Corpus-5';
let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-restore-corpus-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: path.join(work, 'state') };
const addr = { host: '', port: 0, user: 'corpus', password: PASSWORD };
const url = () => `imap://corpus@${server.host}:${server.port}`;

/**
 * What Dovecot keeps of the bytes it is given (correctness.md, appendix): a bare LF is stored
 * and served as CRLF, a NUL as 0x80. mailferry sends CRLF itself; NUL it sends as it is.
 */
function asDovecotKeeps(raw: Buffer): Buffer {
  const crlf = Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  return Buffer.from(crlf.map((b) => (b === 0 ? 0x80 : b)));
}

interface Expected {
  raw: Buffer;
  flags: string[];
  /** Epoch seconds. */
  date: number;
}

/**
 * The messages of an mbox file by docs/restore.md: split at `From ` lines (these samples have no
 * unquoted `From ` line in a body: their `From ` lines are exactly their messages), the last line
 * left out when it is empty (the separator), one `>` off lines matching `^>+From `, the date from
 * the `From_` line, flags from Takeout's X-Gmail-Labels.
 */
function mboxExpected(file: Buffer): Expected[] {
  const lines = file.toString('latin1').split(/(?<=\n)/);
  const messages: Array<{ fromLine: string; lines: string[] }> = [];
  for (const line of lines) {
    if (line.startsWith('From ')) messages.push({ fromLine: line.trimEnd(), lines: [] });
    else messages[messages.length - 1]!.lines.push(line);
  }
  return messages.map(({ fromLine, lines: body }) => {
    if (body.length > 0 && /^\r?\n$/.test(body[body.length - 1]!)) body.pop();
    const text = body.map((l) => l.replace(/^>(>*From )/, '$1')).join('');
    const head = text.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]/g, ' ');
    // None of these samples has mail-reader state in its headers, so nothing is taken out.
    expect(head).not.toMatch(/^(Status|X-Status|X-Keywords|X-UID|X-IMAP|X-IMAPbase|X-Mozilla-[\w-]+):/im);
    const labels = /^X-Gmail-Labels:(.*)$/im.exec(head)?.[1];
    const flags = labels === undefined ? [] : [...(/\bUnread\b/.test(labels) ? [] : ['\\Seen']), ...(/\bStarred\b/.test(labels) ? ['\\Flagged'] : [])];
    const d = /(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (?:[+-]\d{4} )?(\d{4})$/.exec(fromLine)!;
    const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(d[1]!);
    const date = Date.UTC(Number(d[6]), month, Number(d[2]), Number(d[3]), Number(d[4]), Number(d[5])) / 1000;
    return { raw: Buffer.from(text, 'latin1'), flags, date };
  });
}

const MAILDIR_FLAGS: Record<string, string> = { D: '\\Draft', F: '\\Flagged', P: '$Forwarded', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };

/** Every file in a `cur/` or `new/` directory of the tree, by the folder (its directory) it is in. */
async function maildirExpected(root: string): Promise<Map<string, Expected[]>> {
  const folders = new Map<string, Expected[]>();
  for (const e of await walk(root)) {
    const rel = path.relative(root, e.path).split(path.sep);
    if (e.type !== 'file' || rel.length < 2 || !['cur', 'new'].includes(rel[rel.length - 2]!)) continue;
    const folder = rel.slice(0, -2).join('/');
    const info = /:2,([A-Za-z]*)$/.exec(rel[rel.length - 1]!)?.[1] ?? '';
    const flags = [...info].flatMap((l) => (MAILDIR_FLAGS[l] ? [MAILDIR_FLAGS[l]!] : []));
    const st = await fs.stat(e.path);
    folders.set(folder, [...(folders.get(folder) ?? []), { raw: await fs.readFile(e.path), flags, date: Math.floor(st.mtimeMs / 1000) }]);
  }
  return folders;
}

/** What the destination folder must hold: the expected messages as Dovecot keeps them. */
function tuples(expected: Expected[]): string[] {
  return expected.map((m) => {
    const kept = asDovecotKeeps(m.raw);
    return `${createHash('sha256').update(kept).digest('hex')} ${kept.length} ${m.date} ${[...m.flags].sort().join(' ')}`;
  }).sort();
}

/** Tuples without their date field (the third), and the dates, each sorted. */
function splitDates(lines: string[]): { rest: string[]; dates: number[] } {
  const parts = lines.map((l) => l.split(' '));
  return { rest: parts.map((p) => [...p.slice(0, 2), ...p.slice(3)].join(' ')).sort(), dates: parts.map((p) => Number(p[2])).sort((a, b) => a - b) };
}

function actual(snapshot: Snapshot, folder: string): string[] {
  const found: Tuple[] = snapshot.get(folder) ?? [];
  return found.map((t) => `${t.sha256} ${t.size} ${t.internalDate} ${t.flags.join(' ')}`).sort();
}

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const restore = async (from: string, extra: string[] = []) => {
  const run = await runCli(['restore', '--from', from, '--to', url(), '--to-ca', server.caFile, '--json', ...extra], env);
  expect(run.code, run.stderr).toBe(0);
  return { ...run, summary: JSON.parse(run.stdout) };
};

describe.runIf(present)('restore of real mail other programs wrote, into Dovecot', () => {
  beforeAll(async () => {
    server = await startDovecot({ users: [{ name: addr.user, password: PASSWORD }] });
    Object.assign(addr, { host: server.host, port: server.port });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('a Google Takeout mbox: all 39 messages, byte for byte, read/starred from X-Gmail-Labels, INTERNALDATE from the From_ lines', async () => {
    const file = path.join(GYB, 'google-takeout', 'takeout.mbox');
    const { summary } = await restore(file);
    expect(summary.folders).toMatchObject([{ source: 'takeout.mbox', destination: 'takeout', copied: 39, failed: 0 }]);
    const expected = mboxExpected(await fs.readFile(file));
    expect(expected).toHaveLength(39);
    const got = actual(await snapshotAccount(addr), 'takeout');
    expect(got).toEqual(tuples(expected));
    // Not a trivial case: some messages are read, some unread, some starred.
    for (const flag of ['\\Seen', '\\Flagged']) expect(got.filter((t) => t.includes(flag)).length, flag).toBeGreaterThan(0);
    expect(got.filter((t) => !t.includes('\\Seen')).length).toBeGreaterThan(0);

    // A rerun adds nothing: the file's UIDs are stable.
    expect((await restore(file)).summary.totals).toMatchObject({ copied: 0, failed: 0 });
  });

  it('a directory of mbox files (Google Vault export, list archives): every message of every file, each file one folder', async () => {
    const { summary, stderr } = await restore(GYB, ['--into', 'gyb']);
    // SOURCE.md and the Vault export's .xml and .csv are no mbox files.
    expect(stderr).toMatch(/3 files are not mbox files/);
    expect(summary.totals).toMatchObject({ folders: 6, failed: 0, copied: 159 });
    const snapshot = await snapshotAccount(addr);
    const counts: Record<string, number> = {};
    for (const e of (await walk(GYB)).filter((x) => x.path.endsWith('.mbox'))) {
      const folder = `gyb/${path.relative(GYB, e.path).replace(/\.mbox$/, '')}`;
      const expected = mboxExpected(await fs.readFile(e.path));
      expect(actual(snapshot, folder), folder).toEqual(tuples(expected));
      counts[folder] = expected.length;
    }
    expect(counts).toEqual({
      'gyb/google-takeout/takeout': 39,
      'gyb/historic-public-mbox/mozillaes': 35,
      'gyb/historic-public-mbox/odd-mails': 6,
      'gyb/historic-public-mbox/rfc2047-samples': 11,
      'gyb/historic-public-mbox/sample': 15,
      'gyb/vault-export-mbox/ubuntu_me@u.jaylee.us_0': 53,
    });
  });

  it('the notmuch Maildir corpus: every message in every cur/ and new/, flags from the :2, info, INTERNALDATE from the mtime', async () => {
    const { summary, stderr } = await restore(NOTMUCH, ['--into', 'notmuch']);
    // notmuch's corpora also hold loose message files outside any Maildir: said, not restored.
    expect(stderr).toMatch(/\d+ files outside cur\/ and new\/ are not Maildir messages; left out/);
    const expected = await maildirExpected(NOTMUCH);
    const total = [...expected.values()].reduce((n, m) => n + m.length, 0);
    expect(total).toBe(256);
    expect(summary.totals).toMatchObject({ folders: expected.size, copied: total, failed: 0 });
    const snapshot = await snapshotAccount(addr);
    for (const [folder, messages] of expected) {
      // A copied corpus tree may straddle a second boundary between two copies of one message, so
      // dates (from mtimes) are compared to the second apart from the rest of each tuple.
      const [got, want] = [actual(snapshot, `notmuch/${folder}`), tuples(messages)].map(splitDates);
      expect(got!.rest, folder).toEqual(want!.rest);
      got!.dates.forEach((d, i) => expect(Math.abs(d - want!.dates[i]!), folder).toBeLessThanOrEqual(1));
    }

    // verify reads the same tree as a side and finds the restore equal.
    const maps = [...expected.keys()].flatMap((f) => ['--map', `${f}=notmuch/${f}`]);
    const verify = await runCli(['verify', '--from', NOTMUCH, '--to', url(), '--to-ca', server.caFile, ...maps], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

if (!present) {
  describe('restore of real mail other programs wrote', () => {
    it.skip(`needs the shared corpus at ${CORPUS}, which is absent`, () => {});
  });
}

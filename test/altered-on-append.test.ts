// A server that stores other bytes than it was sent: Dovecot 2.3 turns a NUL into 0x80. The
// message is copied once, named as altered, recognised as the copy by a rerun that lost its
// checkpoint, and verify calls it altered rather than missing plus extra. What a server stored
// as sent often enough is no longer read back; what it may alter always is.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { snapshotAccount } from './support/oracle.js';
import { runCli } from './support/cli.js';

const PASSWORD = 'pw-Altered-4';
const work = mkdtempSync(join(tmpdir(), 'mf-altered-'));
const maildir = join(work, 'foreign');
let server: DovecotServer;
const env = { MAILFERRY_TO_PASSWORD: PASSWORD, MAILFERRY_FROM_PASSWORD: PASSWORD };
const to = () => `imap://dst@${server.host}:${server.port}`;

const message = (n: number, body: string) => Buffer.from(`From: a@example.org\r\nTo: b@example.org\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@example.org>\r\nDate: Mon, 3 Feb 2025 10:0${n}:00 +0000\r\n\r\n${body}\r\n`, 'latin1');
const NUL_BODY = 'a NUL \0 in the body';

beforeAll(async () => {
  server = await startDovecot({ users: ['dst', 'many'].map((name) => ({ name, password: PASSWORD })) });
  // A Maildir another program wrote: five ordinary messages and one with a NUL byte (uid order = name order).
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
  for (let n = 1; n <= 6; n++) writeFileSync(join(maildir, 'cur', `170000000${n}.M${n}P1.host:2,S`), message(n, n === 4 ? NUL_BODY : `plain body ${n}`));
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

function restore(state: string) {
  return runCli(['restore', '--from', maildir, '--to', to(), '--to-ca', server.caFile, '--state', join(work, state), '--json'], env);
}

describe('a message the destination server alters on APPEND (Dovecot: NUL becomes 0x80)', () => {
  it('is copied once and named as altered by the server', async () => {
    const run = await restore('first.sqlite');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.totals).toMatchObject({ copied: 6, failed: 0, alteredByServer: 1 });
    const altered = summary.folders.flatMap((f: { alteredByServer: unknown[] }) => f.alteredByServer);
    expect(altered).toEqual([{ uid: 4, size: message(4, NUL_BODY).length, destUid: 4, destSize: message(4, NUL_BODY).length }]);
    // The server really altered it: its copy has 0x80 where the NUL was.
    const stored = (await snapshotAccount({ host: server.host, port: server.port, user: 'dst', password: PASSWORD })).get('INBOX')!;
    expect(stored).toHaveLength(6);
  });

  it('a rerun that lost its checkpoint copies 0: the altered copy is recognised', async () => {
    rmSync(join(work, 'first.sqlite'));
    const run = await restore('second.sqlite');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    const stored = (await snapshotAccount({ host: server.host, port: server.port, user: 'dst', password: PASSWORD })).get('INBOX')!;
    expect(stored).toHaveLength(6);
    expect(summary.totals).toMatchObject({ copied: 0, present: 6, failed: 0, alteredByServer: 1 });
  });

  it('verify reports it as altered, not missing plus extra, and exits 0', async () => {
    const run = await runCli(['verify', '--from', maildir, '--to', to(), '--to-ca', server.caFile, '--json'], env);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.folders).toHaveLength(1);
    const inbox = report.folders[0];
    expect(inbox).toMatchObject({ missing: [], extra: [], duplicated: [] });
    expect(inbox.altered).toHaveLength(1);
    expect(inbox.altered[0].source).toMatchObject({ uid: 4, messageId: '<m4@example.org>' });
    const text = await runCli(['verify', '--from', maildir, '--to', to(), '--to-ca', server.caFile], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/altered +UID 4, Message-ID <m4@example.org>.*stored by the server as UID 4/);
  });
});

describe('reading back what the destination stored, once it stored enough of a kind as sent', () => {
  const many = join(work, 'many');
  const header8 = (n: number) => Buffer.from(`From: "Jos\u00e9 ${n}" <a@example.org>\r\nSubject: caf\u00e9 ${n}\r\nMessage-ID: <e${n}@example.org>\r\n\r\nbody ${n}\r\n`, 'utf8');
  const messages = [
    ...Array.from({ length: 300 }, (_, i) => message(i + 1, `plain body ${i + 1}`)),
    ...Array.from({ length: 300 }, (_, i) => header8(i + 301)),
    message(601, NUL_BODY),
    Buffer.from('From: a@example.org\r\nSubject: no last line end\r\nMessage-ID: <end@example.org>\r\n\r\nno CRLF after this', 'latin1'),
    message(603, 'plain body 603'),
  ];

  beforeAll(() => {
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(many, sub), { recursive: true });
    messages.forEach((raw, i) => writeFileSync(join(many, 'cur', `17${String(i + 1).padStart(8, '0')}.M${i + 1}P1.host:2,S`), raw));
  });

  it('leaves out plain and 8-bit-header messages after 100 of each came back as sent, still reads back a NUL and a message without a last CRLF, and names the NUL altered', async () => {
    const log = join(work, 'many.jsonl');
    const run = await runCli(['restore', '--from', many, '--to', `imap://many@${server.host}:${server.port}`, '--state', join(work, 'many.sqlite'), '--connections', '1', '--json', '--debug', '--log-file', log], env);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.totals).toMatchObject({ copied: 603, failed: 0, alteredByServer: 1 });
    expect(summary.folders[0].alteredByServer).toMatchObject([{ uid: 601 }]);

    // The FETCHes of stored sizes after each APPEND (not of whole messages), by the UIDs they name.
    const readBacks = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { message?: string }).message ?? '')
      .flatMap((m) => /imap imap:\/\/many@\S+ \S+ debug: \S+ UID FETCH (\S+) \((?!.*BODY\.PEEK\[\])/.exec(m)?.[1] ?? []);
    const uids = readBacks.flatMap((set) => set.split(',').flatMap((r) => {
      const [a, b] = r.split(':').map(Number);
      return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
    }));
    expect(uids, 'every plain message of the first batch is read back').toEqual(expect.arrayContaining([1, 250]));
    expect(uids.filter((u) => u > 250 && u <= 300), 'plain messages read back after 250 came back as sent').toEqual([]);
    expect(uids.filter((u) => u > 300 && u <= 600).length, 'the 8-bit headers were read back until 100 came back as sent').toBeGreaterThanOrEqual(100);
    expect(uids, 'a NUL and a message without a last CRLF are always read back').toEqual(expect.arrayContaining([601, 602]));
    expect(uids, 'a plain message at the end').not.toContain(603);
    const stored = (await snapshotAccount({ host: server.host, port: server.port, user: 'many', password: PASSWORD })).get('INBOX')!;
    expect(stored).toHaveLength(603);
  });
});

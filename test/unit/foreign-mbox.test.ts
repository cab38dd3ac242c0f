import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toCrlf } from '../../src/stores/foreign/crlf.js';
import { fromLineDate } from '../../src/stores/foreign/from-line.js';
import { gmailLabels } from '../../src/stores/foreign/gmail-labels.js';
import { loadMboxFile } from '../../src/stores/foreign/mbox-file.js';
import { readMboxMessage } from '../../src/stores/foreign/mbox-message.js';
import { findMboxFiles } from '../../src/stores/foreign/mbox-tree.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mf-foreign-mbox-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const text = (b: Buffer): string => b.toString('latin1');

describe('From_ lines', () => {
  it.each([
    ['From nobody Mon Sep 15 15:43:58 2003', '2003-09-15T15:43:58.000Z'],
    ['From MAILER-DAEMON Tue Mar  5 06:07:08 2024', '2024-03-05T06:07:08.000Z'],
    ['From 1628424719502045299@xxx Tue Mar 19 09:13:51 +0000 2019', '2019-03-19T09:13:51.000Z'],
    ['From alice@example.org Tue Mar 19 09:13:51 2019 +0200', '2019-03-19T07:13:51.000Z'],
    ['From bob Tue Mar 19 09:13:51 PST 2019', '2019-03-19T09:13:51.000Z'],
    ['From bob Mar 19 09:13 2019', '2019-03-19T09:13:00.000Z'],
    ['From uucp Thu Jan  1 00:00:00 1998 remote from nowhere', '1998-01-01T00:00:00.000Z'],
  ])('%s is a message separator dated %s', (line, iso) => {
    expect(fromLineDate(line)?.toISOString()).toBe(iso);
  });

  it.each(['From here on, we do it differently.', 'From: alice@example.org', 'From me Mon Sep 45 15:43:58 2003'])('%j is body text', (line) => {
    expect(fromLineDate(line)).toBeUndefined();
  });
});

describe('a message of a foreign mbox', () => {
  it('loses the separating blank line, one > of ^>+From lines, and the mail-reader state fields; gets CRLF', () => {
    const content = Buffer.from(
      'Subject: hi\nStatus: RO\nX-Status: AF\nX-Keywords: $Label1 NonJunk,Project_X\n  \\bad\nX-UID: 7\nX-Mozilla-Status: 1003\n' +
        'Content-Length: 99\n\nbody\n>From quoted\n>>From twice\nFrom me unquoted\n\n',
    );
    const m = readMboxMessage(content);
    expect(text(m.raw)).toBe('Subject: hi\r\nContent-Length: 99\r\n\r\nbody\r\nFrom quoted\r\n>From twice\r\nFrom me unquoted\r\n');
    expect(m.flags.sort()).toEqual(['$Forwarded', '$Label1', 'NonJunk', 'Project_X', '\\Answered', '\\Flagged', '\\Seen']);
    expect(m.pseudo).toBe(false);
  });

  it('keeps a message that does not end in a blank line whole, and a CRLF message as it is', () => {
    expect(text(readMboxMessage(Buffer.from('Subject: a\n\nlast line\n')).raw)).toBe('Subject: a\r\n\r\nlast line\r\n');
    expect(text(readMboxMessage(Buffer.from('Subject: b\r\n\r\nx\r\n\r\n')).raw)).toBe('Subject: b\r\n\r\nx\r\n');
  });

  it('only the header section is looked at: a Status line in the body stays', () => {
    const m = readMboxMessage(Buffer.from('Subject: dsn\n\nAction: failed\nStatus: 5.0.0\n\n'));
    expect(text(m.raw)).toContain('Status: 5.0.0');
    expect(m.flags).toEqual([]);
  });

  it('Thunderbird keeps flags in X-Mozilla-Status and tags in X-Mozilla-Keys', () => {
    const m = readMboxMessage(Buffer.from('X-Mozilla-Status: 0005\nX-Mozilla-Status2: 00000000\nX-Mozilla-Keys: $label1 todo\nSubject: t\n\nx\n'));
    expect(m.flags.sort()).toEqual(['$label1', '\\Flagged', '\\Seen', 'todo']);
    expect(text(m.raw)).toBe('Subject: t\r\n\r\nx\r\n');
  });

  it('Google Takeout: read unless labelled Unread, flagged when Starred; the labels header stays', () => {
    const read = readMboxMessage(Buffer.from('X-Gmail-Labels: =?UTF-8?Q?1.Organiza=C4=8Dn=C3=AD,"3._Culture,_Hle?=\n =?UTF-8?Q?d=C3=A1n=C3=AD",Starred?=\n\nx\n'));
    expect(read.flags.sort()).toEqual(['\\Flagged', '\\Seen']);
    expect(text(read.raw)).toContain('X-Gmail-Labels: ');
    expect(readMboxMessage(Buffer.from('X-Gmail-Labels: Inbox,Important,Unread,takeout\n\nx\n')).flags).toEqual([]);
  });

  it("UW-IMAP's folder-data message is recognised", () => {
    expect(readMboxMessage(Buffer.from("Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\nX-IMAP: 1234567890 0000000003\n\nx\n")).pseudo).toBe(true);
  });

  it('Gmail labels decode RFC 2047 and keep quoted commas', () => {
    expect(gmailLabels('=?UTF-8?Q?1.Organiza=C4=8Dn=C3=AD,"3._Culture,_Hle?= =?UTF-8?Q?d=C3=A1n=C3=AD",Important?=')).toEqual(['1.Organizační', '3. Culture, Hledání', 'Important']);
    expect(gmailLabels('Inbox,Unread,takeout')).toEqual(['Inbox', 'Unread', 'takeout']);
  });

  it('CRLF: bare LF only, a CR alone left as it is', () => {
    expect(text(toCrlf(Buffer.from('a\nb\r\nc\rd\n')))).toBe('a\r\nb\r\nc\rd\r\n');
    const crlf = Buffer.from('x\r\n');
    expect(toCrlf(crlf)).toBe(crlf);
  });
});

describe('an mbox file', () => {
  it('splits at dated From_ lines only; UIDs are positions; dates from the From_ lines; the UW-IMAP pseudo message is skipped', async () => {
    const file = path.join(dir, 'inbox');
    await fs.writeFile(
      file,
      "From MAILER-DAEMON Thu Jan  1 00:00:00 2009\nSubject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\nX-IMAP: 1 2\n\nx\n\n" +
        'From a@example Mon Sep 15 15:43:58 2003\nSubject: one\nStatus: RO\n\nFrom here on, an unquoted line.\n\n' +
        'From b@example Tue Sep 16 01:02:03 2003\nSubject: two\n\nno blank line after me\n' +
        'From c@example Wed Sep 17 01:02:03 2003\nSubject: three\n\n',
    );
    const folder = await loadMboxFile(file);
    expect(folder.status).toMatchObject({ messages: 3, uidNext: 4 });
    const metas = await folder.scan({});
    expect(metas.map((m) => [m.uid, m.internalDate.toISOString(), m.flags])).toEqual([
      [1, '2003-09-15T15:43:58.000Z', ['\\Seen']],
      [2, '2003-09-16T01:02:03.000Z', []],
      [3, '2003-09-17T01:02:03.000Z', []],
    ]);
    const bodies: string[] = [];
    for await (const m of folder.fetch([3, 1, 2])) {
      expect(m.size).toBe(m.raw.length);
      expect(metas.find((x) => x.uid === m.uid)!.size).toBe(m.raw.length);
      bodies.push(text(m.raw));
    }
    expect(bodies).toEqual([
      'Subject: one\r\n\r\nFrom here on, an unquoted line.\r\n',
      'Subject: two\r\n\r\nno blank line after me\r\n',
      'Subject: three\r\n',
    ]);
  });

  it('a changed file is a new generation of UIDs (another UIDVALIDITY); an unchanged one is not', async () => {
    const file = path.join(dir, 'box.mbox');
    await fs.writeFile(file, 'From a Mon Sep 15 15:43:58 2003\nSubject: one\n\nx\n\n');
    const first = (await loadMboxFile(file)).status.uidValidity;
    expect((await loadMboxFile(file)).status.uidValidity).toBe(first);
    await fs.appendFile(file, 'From b Mon Sep 15 15:43:59 2003\nSubject: two\n\ny\n\n');
    expect((await loadMboxFile(file)).status.uidValidity).not.toBe(first);
  });

  it('a file that does not start with From_ is no mbox', async () => {
    const file = path.join(dir, 'notes');
    await fs.writeFile(file, 'Subject: not an mbox\n\n');
    await expect((await findMboxFiles(file)).folders).toEqual([]);
  });
});

describe('an mbox file cut short', () => {
  const whole = 'From a Mon Sep 15 15:43:58 2003\nSubject: one\n\nfirst\n\nFrom b Mon Sep 15 15:44:58 2003\nSubject: two\nContent-Length: 12\n\nsecond body\n\n';

  async function lastOf(content: string): Promise<{ damaged?: string; raw: string }[]> {
    const file = path.join(dir, 'cut.mbox');
    await fs.writeFile(file, content);
    const folder = await loadMboxFile(file);
    const out: { damaged?: string; raw: string }[] = [];
    for await (const m of folder.fetch([1, 2])) out.push({ damaged: m.damaged, raw: text(m.raw) });
    return out;
  }

  it('a whole file: no message is reported damaged', async () => {
    expect((await lastOf(whole)).map((m) => m.damaged)).toEqual([undefined, undefined]);
  });

  it.each([
    ['inside a line', whole.slice(0, whole.indexOf('second body') + 4), /ends inside a line of its last message/],
    ['before the announced Content-Length', whole.slice(0, whole.indexOf('second body')) + 'sec\n', /announces a 12-byte body \(Content-Length\), the file holds 4/],
  ])('cut %s: the last message is reported, the first is not', async (_, content, reason) => {
    const [first, last] = await lastOf(content);
    expect(first!.damaged).toBeUndefined();
    expect(last!.damaged).toMatch(reason);
  });

  it('a file that ends at a line end inside the last header section: a header-only message, whole', async () => {
    const [first, last] = await lastOf(whole.slice(0, whole.indexOf('Content-Length')));
    expect(first!.damaged).toBeUndefined();
    expect(last!.damaged).toBeUndefined();
  });
});

describe('a tree of mbox files', () => {
  it("Thunderbird's Inbox.sbd and mailferry-style Work/ give the hierarchy; .msf indexes and hidden files are left out", async () => {
    const from = 'From a Mon Sep 15 15:43:58 2003\nSubject: s\n\nx\n\n';
    await fs.mkdir(path.join(dir, 'Inbox.sbd'));
    await fs.mkdir(path.join(dir, 'Work'));
    await fs.mkdir(path.join(dir, '.hidden'));
    await fs.writeFile(path.join(dir, 'Inbox'), from);
    await fs.writeFile(path.join(dir, 'Inbox.msf'), '// <!-- <mdb:mork:z v="1.4"/> -->');
    await fs.writeFile(path.join(dir, 'Inbox.sbd', 'Lists'), from);
    await fs.writeFile(path.join(dir, 'Work.mbox'), from);
    await fs.writeFile(path.join(dir, 'Work', 'Sub.mbox'), from);
    await fs.writeFile(path.join(dir, '.hidden', 'x.mbox'), from);
    const { folders, ignored } = await findMboxFiles(dir);
    expect(folders.map((f) => [f.name, f.components]).sort()).toEqual([
      ['Inbox', ['Inbox']],
      ['Inbox.sbd/Lists', ['Inbox', 'Lists']],
      ['Work.mbox', ['Work']],
      ['Work/Sub.mbox', ['Work', 'Sub']],
    ]);
    expect(ignored).toBe(1);
  });
});

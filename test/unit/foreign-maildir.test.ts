import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForeignTree } from '../../src/stores/foreign/foreign-tree.js';
import { loadMaildir } from '../../src/stores/foreign/maildir-folder.js';
import { findMaildirs } from '../../src/stores/foreign/maildir-tree.js';
import { decodeMutf7, encodeMutf7 } from '../../src/stores/local/mutf7.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'mf-foreign-maildir-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const byName = (a: string[], b: string[]): number => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0);

async function maildir(dir: string, subs: string[] = ['cur', 'new', 'tmp']): Promise<void> {
  for (const sub of subs) await fs.mkdir(path.join(dir, sub), { recursive: true });
}

async function message(file: string, body: string, mtime = new Date('2020-02-03T04:05:06Z')): Promise<void> {
  await fs.writeFile(file, body);
  await fs.utimes(file, mtime, mtime);
}

describe('modified UTF-7 folder names', () => {
  it.each(['Économie', '日本語', 'Ящик', 'R&D', '&', 'plain'])('%s round-trips', (name) => {
    expect(decodeMutf7(encodeMutf7(name))).toBe(name);
  });

  it.each(['R&D', '&Jjo', '&AGE-', 'caf\u00e9'])('%j is not modified UTF-7', (name) => {
    expect(decodeMutf7(name)).toBeUndefined();
  });
});

describe('a Maildir tree other programs wrote', () => {
  it("Maildir++ as Dovecot names it: INBOX at the top, .Work.Projects, listescape's \\2e, modified UTF-7", async () => {
    await maildir(root);
    for (const dir of ['.Work', '.Work.Projects', '.Foo\\2eBar', '.&AMk-conomie', '.R&D']) await maildir(path.join(root, dir));
    await fs.mkdir(path.join(root, '.notmuch', 'xapian'), { recursive: true });
    await fs.writeFile(path.join(root, 'dovecot-uidlist'), '3 V1 N1\n');
    await fs.writeFile(path.join(root, 'stray.eml'), 'Subject: x\n\n');
    const { folders, ignored } = await findMaildirs(root);
    expect(folders.map((f) => [f.name, f.components.join('|')]).sort(byName)).toEqual([
      ['.', 'INBOX'],
      ['.&AMk-conomie', 'Économie'],
      ['.Foo\\2eBar', 'Foo.Bar'],
      ['.R&D', 'R&D'],
      ['.Work', 'Work'],
      ['.Work.Projects', 'Work|Projects'],
    ]);
    expect(ignored).toBe(1);
  });

  it('fs layout (mbsync Verbatim, OfflineIMAP, notmuch): nested directories, cur/ alone is enough, parents need not be folders', async () => {
    await maildir(path.join(root, 'INBOX'));
    await maildir(path.join(root, 'Work'));
    await maildir(path.join(root, 'Work', 'Projects'), ['cur']);
    await maildir(path.join(root, 'lists', 'dovecot'), ['new']);
    await maildir(path.join(root, 'Sent.Old'));
    const { folders } = await findMaildirs(root);
    expect(folders.map((f) => [f.name, f.components.join('|')]).sort(byName)).toEqual([
      ['INBOX', 'INBOX'],
      ['Sent.Old', 'Sent.Old'],
      ['Work', 'Work'],
      ['Work/Projects', 'Work|Projects'],
      ['lists/dovecot', 'lists|dovecot'],
    ]);
  });

  it('flags from the :2, info and dovecot-keywords letters; INTERNALDATE from the mtime; bytes with CRLF; UIDs by base name', async () => {
    await maildir(root);
    await fs.writeFile(path.join(root, 'dovecot-keywords'), '0 $Label1\n1 Project_X\n');
    await message(path.join(root, 'cur', '1600000002.M2.host,S=20:2,FPSab'), 'Subject: b\n\nbody\n');
    await message(path.join(root, 'new', '1600000001.M1.host'), 'Subject: a\r\n\r\nbody\r\n', new Date('2019-01-01T00:00:00Z'));
    await message(path.join(root, 'cur', '1600000003.M3.host:2,RTz'), 'Subject: c\n\n');
    await message(path.join(root, 'cur', '.hidden:2,S'), 'not a message');
    const folder = await loadMaildir(root);
    const metas = await folder.scan({});
    expect(metas.map((m) => [m.uid, m.flags.sort(), m.internalDate.toISOString(), m.size])).toEqual([
      [1, [], '2019-01-01T00:00:00.000Z', 20],
      [2, ['$Forwarded', '$Label1', 'Project_X', '\\Flagged', '\\Seen'], '2020-02-03T04:05:06.000Z', 20],
      [3, ['\\Answered', '\\Deleted'], '2020-02-03T04:05:06.000Z', 14],
    ]);
    const raws: string[] = [];
    for await (const m of folder.fetch([2])) raws.push(m.raw.toString());
    expect(raws).toEqual(['Subject: b\r\n\r\nbody\r\n']);
  });

  it('a new message is a new generation of UIDs; a flag change (a rename after :2,) is not', async () => {
    await maildir(root);
    await message(path.join(root, 'cur', '1.M1.host:2,'), 'Subject: a\n\n');
    const first = (await loadMaildir(root)).status.uidValidity;
    await fs.rename(path.join(root, 'cur', '1.M1.host:2,'), path.join(root, 'cur', '1.M1.host:2,S'));
    expect((await loadMaildir(root)).status.uidValidity).toBe(first);
    await message(path.join(root, 'new', '0.M0.host'), 'Subject: b\n\n');
    expect((await loadMaildir(root)).status).toMatchObject({ messages: 2 });
    expect((await loadMaildir(root)).status.uidValidity).not.toBe(first);
  });

  it('folders named as a special use get it, as on a server without SPECIAL-USE', async () => {
    for (const dir of ['.Sent', '.Trash', '.Work']) await maildir(path.join(root, dir));
    const tree = new ForeignTree((await findMaildirs(root)).folders, { sent: ['Sent Items', 'Sent'], trash: ['Trash'] });
    const uses = (await tree.listFolders()).map((f) => [f.name, f.specialUse]).sort();
    expect(uses).toEqual([['.Sent', '\\Sent'], ['.Trash', '\\Trash'], ['.Work', undefined]]);
  });
});

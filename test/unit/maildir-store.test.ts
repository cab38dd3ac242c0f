import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../src/domain/types.js';
import type { MaildirLayout } from '../../src/stores/local/folder-path.js';
import { ManifestFile } from '../../src/stores/local/manifest.js';
import { MaildirStore } from '../../src/stores/maildir/maildir-store.js';
import type { FolderHandle } from '../../src/stores/store.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'mf-maildir-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function store(layout: MaildirLayout = 'maildir++'): Promise<MaildirStore> {
  const manifest = (await ManifestFile.read(root)) ?? ManifestFile.fresh(root, { source: 'imap://me@example', format: 'maildir', layout });
  await manifest.save();
  return new MaildirStore(manifest, `maildir:${root}`, layout);
}

const message = (n: number, flags: string[] = [], date = new Date(Date.UTC(2020, 0, n, 12))): AppendRequest => ({
  raw: Buffer.from(`From: a@example.org\r\nSubject: message ${n}\r\n\r\nbody ${n}\r\n`),
  flags,
  internalDate: date,
});

async function withFolder<T>(s: MaildirStore, name: string, fn: (h: FolderHandle) => Promise<T>): Promise<T> {
  const h = await s.openFolder(name, 'write');
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

async function all(h: FolderHandle): Promise<Array<{ uid: number; raw: string; flags: string[]; date: number }>> {
  const out = [];
  for await (const m of h.fetch((await h.scan({})).map((x) => x.uid))) out.push({ uid: m.uid, raw: m.raw.toString(), flags: [...m.flags].sort(), date: m.internalDate.getTime() });
  return out;
}

describe('MaildirStore writes Maildir++ as Dovecot does', () => {
  it('puts INBOX at the root and a subfolder in .Name.Sub, each with cur/new/tmp and a dovecot-uidlist', async () => {
    const s = await store();
    const inbox = await s.createFolder(['INBOX'], { subscribe: true });
    const sub = await s.createFolder(['Work', 'Projects.2024'], { subscribe: true, specialUse: '\\Archive' });
    expect(inbox.name).toBe('Maildir');
    expect(sub.name).toBe('Maildir/.Work.Projects\\2e2024');
    for (const dir of ['Maildir', 'Maildir/.Work.Projects\\2e2024']) {
      for (const entry of ['cur', 'new', 'tmp', 'dovecot-uidlist']) await expect(fs.stat(path.join(root, dir, entry))).resolves.toBeTruthy();
    }
    await expect(fs.stat(path.join(root, sub.name, 'maildirfolder'))).resolves.toBeTruthy();
    expect(sub.status).toMatchObject({ uidNext: 1, messages: 0 });
  });

  it('writes each message into cur/ with its flags after :2, (ASCII order, keywords as dovecot-keywords letters) and mtime = INTERNALDATE', async () => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    const outcomes = await withFolder(s, f.name, (h) =>
      h.append([message(1, ['\\Seen', '\\Flagged', '$Label1']), message(2, ['\\Draft', '\\Answered', '$Forwarded']), message(3)]),
    );
    expect(outcomes).toEqual([{ ok: true, uid: 1 }, { ok: true, uid: 2 }, { ok: true, uid: 3 }]);
    const names = (await fs.readdir(path.join(root, 'Maildir', 'cur'))).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    expect(names.map((n) => n.slice(n.indexOf(':')))).toEqual([':2,FSa', ':2,DPRb', ':2,']);
    expect(await fs.readFile(path.join(root, 'Maildir', 'dovecot-keywords'), 'utf8')).toBe('0 $Label1\n1 $Forwarded\n');
    const st = await fs.stat(path.join(root, 'Maildir', 'cur', names[0]!));
    expect(st.mtime.getTime()).toBe(Date.UTC(2020, 0, 1, 12));
    expect(st.mode & 0o777).toBe(0o600);
    expect(await fs.readdir(path.join(root, 'Maildir', 'tmp'))).toEqual([]);
  });

  it('keeps UIDs and UIDVALIDITY across reopening, and lists the counters without opening the folder', async () => {
    const s = await store();
    const f = await s.createFolder(['Work'], { subscribe: false });
    await withFolder(s, f.name, (h) => h.append([message(1, ['\\Seen']), message(2)]));
    const before = await withFolder(s, f.name, all);

    const again = await store();
    const listed = (await again.listFolders()).find((x) => x.name === f.name)!;
    expect(listed).toMatchObject({ components: ['Work'], subscribed: false, status: { uidValidity: f.status!.uidValidity, uidNext: 3, messages: 2 } });
    expect(await withFolder(again, f.name, all)).toEqual(before);
  });

  it('changes flags by renaming the file, removes messages on expunge, and never reuses a UID', async () => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    await withFolder(s, f.name, async (h) => {
      await h.append([message(1), message(2)]);
      await h.setFlags(1, ['\\Seen', 'NonJunk']);
      await h.expunge!([2]);
      expect(await h.append([message(3)])).toEqual([{ ok: true, uid: 3 }]);
    });
    const reopened = await withFolder(s, f.name, all);
    expect(reopened.map((m) => [m.uid, m.flags])).toEqual([[1, ['NonJunk', '\\Seen']], [3, []]]);
    expect((await fs.readdir(path.join(root, 'Maildir', 'cur'))).length).toBe(2);
  });

  it('heals a run killed mid-write: a file moved into cur/ but not listed gets the next UID, our tmp/ leftovers go, others stay', async () => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    await withFolder(s, f.name, (h) => h.append([message(1)]));
    const dir = path.join(root, 'Maildir');
    await fs.writeFile(path.join(dir, 'cur', '1700000000.M1P2Q3R0123456789abcdef.host,S=5:2,S'), 'hello');
    await fs.writeFile(path.join(dir, 'tmp', '1700000000.M1P2Q4Rfedcba9876543210.host,S=3'), 'par');
    await fs.writeFile(path.join(dir, 'tmp', 'delivered-by-someone-else'), 'x');
    // A torn last line, as a kill during the uidlist append leaves it.
    await fs.appendFile(path.join(dir, 'dovecot-uidlist'), '7 :1700000000.M9');

    const h = await s.openFolder(f.name, 'write');
    expect(h.status).toMatchObject({ messages: 2, uidNext: 3 });
    expect((await h.scan({})).map((m) => [m.uid, m.flags])).toEqual([[1, []], [2, ['\\Seen']]]);
    await h.close();
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual(['delivered-by-someone-else']);
    expect(await fs.readFile(path.join(dir, 'dovecot-uidlist'), 'utf8')).toMatch(/^3 V\d+ N0000000003 G[0-9a-f]{32} M0000000002\n1 :\S+\n2 :1700000000\.M1P2Q3R0123456789abcdef\.host,S=5\n$/);
  });

  it('handles open on one folder at the same time share it: concurrent appends (parallel UID ranges) get distinct UIDs', async () => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    const [a, b] = await Promise.all([s.openFolder(f.name, 'write'), s.openFolder(f.name, 'write')]);
    const outcomes = (await Promise.all([a.append([message(1), message(2), message(3)]), b.append([message(4), message(5)])])).flat();
    await a.close();
    expect((await b.scan({})).map((m) => m.uid)).toEqual([1, 2, 3, 4, 5]);
    await b.close();
    expect(new Set(outcomes.map((o) => (o.ok ? o.uid : 0)))).toEqual(new Set([1, 2, 3, 4, 5]));
    expect((await withFolder(await store(), f.name, all)).map((m) => m.uid)).toEqual([1, 2, 3, 4, 5]);
  });

  it('--layout fs nests folders and escapes names that would clash with a Maildir entry', async () => {
    const s = await store('fs');
    const f = await s.createFolder(['Work', 'cur'], { subscribe: true });
    expect(f.name).toBe('Maildir/Work/%63ur');
    await withFolder(s, f.name, (h) => h.append([message(1)]));
    expect((await fs.readdir(path.join(root, 'Maildir', 'Work', '%63ur', 'cur'))).length).toBe(1);
  });

  it('reports a special use only when one folder holds it', async () => {
    const s = await store();
    await s.createFolder(['Sent'], { subscribe: true, specialUse: '\\Sent' });
    await s.createFolder(['Trash'], { subscribe: true, specialUse: '\\Trash' });
    await s.createFolder(['Deleted Items'], { subscribe: true, specialUse: '\\Trash' });
    const uses = Object.fromEntries((await s.listFolders()).map((f) => [f.components.join('/'), f.specialUse]));
    expect(uses).toEqual({ Sent: '\\Sent', Trash: undefined, 'Deleted Items': undefined });
  });

  it('sets 0700 on directories and 0600 on files whatever the umask', async () => {
    // 000 would leave group and other bits, 277 would take the owner's write bit.
    for (const [i, umask] of [0o000, 0o277].entries()) {
      const old = process.umask(umask);
      try {
        const s = await store();
        const f = await s.createFolder(['A', `B${i}`], { subscribe: true });
        await withFolder(s, f.name, (h) => h.append([message(1, ['kw'])]));
      } finally {
        process.umask(old);
      }
    }
    const modes: string[] = [];
    const walk = async (p: string): Promise<void> => {
      const st = await fs.lstat(p);
      modes.push(`${(st.mode & 0o777).toString(8)} ${st.isDirectory() ? 'dir' : 'file'}`);
      if (st.isDirectory()) for (const c of await fs.readdir(p)) await walk(path.join(p, c));
    };
    await walk(root);
    expect(modes.filter((m) => m !== '700 dir' && m !== '600 file')).toEqual([]);
  });
});

describe('MaildirStore notices its own message files deleted or cut short', () => {
  it('lists the folder as having lost them, serves them as damaged when read, and sets them aside when opened for writing', async () => {
    const s = await store();
    const inbox = await s.createFolder(['INBOX'], { subscribe: true });
    await withFolder(s, inbox.name, (h) => h.append([message(1), message(2), message(3)]));
    const cur = path.join(root, 'Maildir', 'cur');
    // By content: the names' order is not the UIDs' (their microseconds are not zero-padded).
    const fileOf = async (n: number): Promise<string> => {
      for (const name of await fs.readdir(cur)) if ((await fs.readFile(path.join(cur, name), 'utf8')).includes(`Subject: message ${n}\r\n`)) return name;
      throw new Error(`no file holds message ${n}`);
    };
    const [first, second] = [await fileOf(1), await fileOf(2)];
    await fs.truncate(path.join(cur, first!), 10);
    await fs.rm(path.join(cur, second!));

    expect((await s.listFolders())[0]!.status).toMatchObject({ messages: 3, lost: 2 });
    const reader = await s.openFolder(inbox.name, 'read');
    const read = [];
    for await (const m of reader.fetch([1, 2, 3])) read.push({ uid: m.uid, damaged: m.damaged });
    await reader.close();
    expect(read).toEqual([{ uid: 1, damaged: expect.stringMatching(/is 10 bytes; the message had \d+/) }, { uid: 3, damaged: undefined }]);

    const writer = await s.openFolder(inbox.name, 'write');
    expect([...writer.lostCopies!].sort()).toEqual([1, 2]);
    expect((await writer.scan({})).map((m) => m.uid)).toEqual([3]);
    await writer.expunge!([1, 2]);
    await writer.close();
    expect(await fs.readdir(path.join(root, 'Maildir'))).toContain(`${first}.damaged`);
    expect((await s.listFolders())[0]!.status).toEqual({ uidValidity: expect.any(Number), uidNext: 4, messages: 1 });
  });
});

describe('Maildir++ backups written with the former escaping (every backslash as \\5c)', () => {
  it('keep their folder at the path the manifest names: a rerun finds it there with its messages', async () => {
    const s = await store();
    const folder = await s.createFolder(['back\\slash'], { subscribe: true });
    expect(folder.name).toBe('Maildir/.back\\slash');
    await withFolder(s, folder.name, (h) => h.append([message(1)]));
    // What the former scheme wrote: the directory and the manifest entry say `.back\5cslash`.
    await fs.rename(path.join(root, folder.name), path.join(root, 'Maildir', '.back\\5cslash'));
    const manifest = (await ManifestFile.read(root))!;
    const entry = manifest.folders().find((f) => f.path === folder.name)!;
    const old = { ...entry, path: 'Maildir/.back\\5cslash' };
    const rewritten = JSON.parse(await fs.readFile(path.join(root, 'manifest.json'), 'utf8'));
    rewritten.folders = [old];
    await fs.writeFile(path.join(root, 'manifest.json'), JSON.stringify(rewritten));

    const again = await store();
    const found = await again.createFolder(['back\\slash'], { subscribe: true });
    expect(found.name).toBe('Maildir/.back\\5cslash');
    expect(found.status).toMatchObject({ messages: 1 });
    expect((await withFolder(again, found.name, all)).map((m) => m.raw)).toEqual([message(1).raw.toString()]);
    expect(await fs.readdir(path.join(root, 'Maildir'))).not.toContain('.back\\slash');
  });
});

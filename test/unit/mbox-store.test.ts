import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../src/domain/types.js';
import { ManifestFile } from '../../src/stores/local/manifest.js';
import { MboxStore } from '../../src/stores/mbox/mbox-store.js';
import { splitMbox } from '../support/mbox-reader.js';
import type { FolderHandle } from '../../src/stores/store.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'mf-mbox-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function store(): Promise<MboxStore> {
  const manifest = (await ManifestFile.read(root)) ?? ManifestFile.fresh(root, { source: 'imap://me@example', format: 'mbox', layout: 'fs' });
  await manifest.save();
  return new MboxStore(manifest, `mbox:${root}`);
}

const at = new Date('2021-02-03T04:05:06Z');
const req = (raw: string | Buffer, flags: string[] = []): AppendRequest => ({ raw: Buffer.from(raw), flags, internalDate: at });

/** Messages that trip naive mbox writers (correctness.md §3.4 and §4.1). */
const TRICKY: Array<[string, string | Buffer]> = [
  ['From lines in the body', 'Subject: a\r\n\r\nFrom me\r\n>From you\r\n>>From them\r\nFrom\r\n'],
  ['a first line that is a From_ line', 'From someone@example Mon Jan  1 00:00:00 2001\r\nSubject: b\r\n\r\nx\r\n'],
  ['no final newline', 'Subject: c\r\n\r\nno newline at the end'],
  ['LF line endings', 'Subject: d\n\nunix\n'],
  ['no headers at all', '\r\nonly a body\r\n'],
  ['headers and no body', 'Subject: e\r\nX-Other: f\r\n'],
  ['its own Status header', 'Status: RO\r\nX-Keywords: old\r\nSubject: g\r\n\r\nbody\r\n'],
  ['NUL and 8-bit bytes', Buffer.concat([Buffer.from('Subject: caf\xe9\r\n\r\n', 'latin1'), Buffer.from([0, 0xff, 0x0d, 0x0a])])],
  ['zero bytes', ''],
];

async function open(s: MboxStore, name: string, mode: 'read' | 'write' = 'write'): Promise<FolderHandle> {
  return s.openFolder(name, mode);
}

async function fetchAll(h: FolderHandle): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const m of h.fetch((await h.scan({})).map((x) => x.uid))) out.push(m.raw);
  return out;
}

describe('MboxStore gives back the original bytes (mboxrd plus what it recorded adding)', () => {
  it.each(TRICKY)('%s', async (_, raw) => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    const h = await open(s, f.name);
    await h.append([req(raw, ['\\Seen', '$Label1'])]);
    const [back] = await fetchAll(h);
    await h.close();
    expect(back!.equals(Buffer.from(raw))).toBe(true);
    const file = await fs.readFile(path.join(root, 'mbox', 'INBOX.mbox'));
    expect(splitMbox(file)).toHaveLength(1);
  });

  it('writes one file per folder, nested for the hierarchy, with the flags in Status/X-Status/X-Keywords', async () => {
    const s = await store();
    const f = await s.createFolder(['Work', 'Projects'], { subscribe: true });
    expect(f.name).toBe('mbox/Work/Projects.mbox');
    const h = await open(s, f.name);
    await h.append([req('Return-Path: <a@example.org>\r\nSubject: x\r\n\r\nbody\r\n', ['\\Seen', '\\Answered', '\\Flagged', 'NonJunk'])]);
    await h.close();
    const text = await fs.readFile(path.join(root, f.name), 'utf8');
    expect(text).toMatch(/^From a@example\.org Wed Feb  3 04:05:06 2021\nReturn-Path: <a@example\.org>\r\nSubject: x\r\nStatus: RO\r\nX-Status: AF  \r\nX-Keywords: NonJunk +\r\n\r\nbody\r\n\n$/);
    await expect(fs.stat(path.join(root, '.mailferry', 'mbox-index', 'Work', 'Projects.mbox.index'))).resolves.toBeTruthy();
  });
});

describe('MboxStore is crash-safe and incremental', () => {
  it('cuts off what a killed run appended after the last indexed message, so the file parses again', async () => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    let h = await open(s, f.name);
    await h.append([req('Subject: 1\r\n\r\none\r\n'), req('Subject: 2\r\n\r\ntwo\r\n')]);
    await h.close();
    const file = path.join(root, f.name);
    const committed = (await fs.stat(file)).size;
    await fs.appendFile(file, 'From MAILER-DAEMON Thu Jan  1 00:00:00 2009\nSubject: 3\r\n\r\nhalf a mess');
    await fs.appendFile(path.join(root, '.mailferry', 'mbox-index', 'INBOX.mbox.index'), '{"uid":3,"offs');

    h = await open(s, f.name);
    expect(h.status).toMatchObject({ messages: 2, uidNext: 3 });
    expect((await fetchAll(h)).map(String)).toEqual(['Subject: 1\r\n\r\none\r\n', 'Subject: 2\r\n\r\ntwo\r\n']);
    expect(await h.append([req('Subject: 3\r\n\r\nthree\r\n')])).toEqual([{ ok: true, uid: 3 }]);
    await h.close();
    expect((await fs.stat(file)).size).toBeGreaterThan(committed);
    expect(splitMbox(await fs.readFile(file))).toHaveLength(3);
  });

  it('an mbox cut short: listed as having lost its last messages, served as damaged when read, compacted away by expunge', async () => {
    const s = await store();
    const inbox = await s.createFolder(['INBOX'], { subscribe: true });
    const h = await open(s, inbox.name);
    await h.append([req('Subject: 1\r\n\r\none\r\n'), req('Subject: 2\r\n\r\ntwo\r\n'), req('Subject: 3\r\n\r\nthree\r\n')]);
    await h.close();
    const file = path.join(root, 'mbox', 'INBOX.mbox');
    await fs.truncate(file, (await fs.stat(file)).size - 10);

    expect((await s.listFolders())[0]!.status).toMatchObject({ messages: 3, lost: 1 });
    const reader = await open(s, inbox.name, 'read');
    const read = [];
    for await (const m of reader.fetch([1, 2, 3])) read.push({ uid: m.uid, damaged: m.damaged });
    await reader.close();
    expect(read).toEqual([{ uid: 1, damaged: undefined }, { uid: 2, damaged: undefined }, { uid: 3, damaged: expect.stringMatching(/ends inside message UID 3 \(cut short\)/) }]);

    const writer = await open(s, inbox.name);
    expect([...writer.lostCopies!]).toEqual([3]);
    await writer.expunge!([3]);
    expect(writer.lostCopies!.size).toBe(0);
    await writer.append([req('Subject: 3\r\n\r\nthree\r\n')]);
    expect((await fetchAll(writer)).map((b) => b.toString())).toEqual(['Subject: 1\r\n\r\none\r\n', 'Subject: 2\r\n\r\ntwo\r\n', 'Subject: 3\r\n\r\nthree\r\n']);
    await writer.close();
    expect((await s.listFolders())[0]!.status?.lost).toBeUndefined();
  });

  it('rewrites the flag headers in place: the file keeps its size, the message its bytes, the index the flags', async () => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    let h = await open(s, f.name);
    await h.append([req('Subject: 1\r\n\r\none\r\n'), req('Subject: 2\r\n\r\ntwo\r\n', ['\\Seen'])]);
    const file = path.join(root, f.name);
    const size = (await fs.stat(file)).size;
    await h.setFlags(1, ['\\Seen', '\\Flagged', '$Label1', 'Project_X']);
    await h.setFlags(2, []);
    await h.close();
    expect((await fs.stat(file)).size).toBe(size);
    const [one, two] = splitMbox(await fs.readFile(file)).map((m) => m.content.toString());
    expect(one).toMatch(/Status: RO\r\nX-Status: F   \r\nX-Keywords: \$Label1 Project_X +\r\n/);
    expect(two).toMatch(/Status: O \r\nX-Status: {5}\r\nX-Keywords: +\r\n/);

    h = await open(await store(), f.name, 'read');
    expect((await h.scan({})).map((m) => m.flags)).toEqual([['\\Seen', '\\Flagged', '$Label1', 'Project_X'], []]);
    expect((await fetchAll(h)).map(String)).toEqual(['Subject: 1\r\n\r\none\r\n', 'Subject: 2\r\n\r\ntwo\r\n']);
    await h.close();
  });

  it('removes messages on expunge (--mirror) by compacting, and keeps the other UIDs', async () => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    const h = await open(s, f.name);
    await h.append([1, 2, 3].map((n) => req(`Subject: ${n}\r\n\r\n${n}\r\n`)));
    await h.expunge!([2]);
    expect((await h.scan({})).map((m) => m.uid)).toEqual([1, 3]);
    expect(await h.append([req('Subject: 4\r\n\r\n4\r\n')])).toEqual([{ ok: true, uid: 4 }]);
    await h.close();
    expect(splitMbox(await fs.readFile(path.join(root, f.name))).map((m) => m.content.toString())).toEqual([
      expect.stringContaining('Subject: 1'),
      expect.stringContaining('Subject: 3'),
      expect.stringContaining('Subject: 4'),
    ]);
  });

  it('finishes a compaction killed after its marker, and discards one killed before', async () => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    const file = path.join(root, f.name);
    const index = path.join(root, '.mailferry', 'mbox-index', 'INBOX.mbox.index');
    let h = await open(s, f.name);
    await h.append([1, 2].map((n) => req(`Subject: ${n}\r\n\r\n${n}\r\n`)));
    await h.close();

    // Killed before the marker: the half-written new files are thrown away.
    await fs.writeFile(file + '.compact', 'From x');
    await fs.writeFile(index + '.compact', '{');
    h = await open(s, f.name);
    expect((await h.scan({})).map((m) => m.uid)).toEqual([1, 2]);
    await h.close();
    await expect(fs.stat(file + '.compact')).rejects.toThrow();

    // Killed after the marker and after the index was swapped in: the mbox swap is completed.
    const copy = path.join(root, 'copy');
    await fs.mkdir(copy);
    h = await open(s, f.name);
    await h.expunge!([1]);
    await h.close();
    await fs.copyFile(file, path.join(copy, 'mbox'));
    await fs.copyFile(index, path.join(copy, 'index'));
    h = await open(s, f.name);
    await h.append([req('Subject: 3\r\n\r\n3\r\n')]);
    await h.close();
    await fs.copyFile(path.join(copy, 'mbox'), file + '.compact');
    await fs.copyFile(path.join(copy, 'index'), index);
    await fs.writeFile(index + '.compacting', '');
    h = await open(s, f.name);
    expect((await h.scan({})).map((m) => m.uid)).toEqual([2]);
    expect((await fetchAll(h)).map(String)).toEqual(['Subject: 2\r\n\r\n2\r\n']);
    await h.close();
  });

  it('handles open on one folder at the same time share it: concurrent appends land one after the other', async () => {
    const s = await store();
    const f = await s.createFolder(['INBOX'], { subscribe: true });
    const [a, b] = await Promise.all([open(s, f.name), open(s, f.name)]);
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => req(`Subject: ${from + i}\r\n\r\nFrom ${from + i}\r\n`));
    await Promise.all([a.append(batch(1, 3)), b.append(batch(4, 2))]);
    await a.close();
    await b.close();
    const h = await open(await store(), f.name, 'read');
    expect((await h.scan({})).map((m) => m.uid)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set((await fetchAll(h)).map(String))).toEqual(new Set(batch(1, 5).map((m) => m.raw.toString())));
    await h.close();
    expect(splitMbox(await fs.readFile(path.join(root, f.name)))).toHaveLength(5);
  });

  it('keeps UIDs across runs and lists the counters from the index alone', async () => {
    const s = await store();
    const f = await s.createFolder(['Archive'], { subscribe: true, specialUse: '\\Archive' });
    const h = await open(s, f.name);
    await h.append([req('Subject: 1\r\n\r\n1\r\n'), req('Subject: 2\r\n\r\n2\r\n')]);
    await h.setFlags(2, ['\\Seen']);
    await h.close();
    const [listed] = await (await store()).listFolders();
    expect(listed).toMatchObject({ name: 'mbox/Archive.mbox', specialUse: '\\Archive', status: { uidValidity: f.status!.uidValidity, uidNext: 3, messages: 2 } });
  });
});

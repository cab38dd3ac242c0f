import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../src/domain/types.js';
import { ManifestFile } from '../../src/stores/local/manifest.js';
import { checkAndSeal, stillSealed, type FolderSeal } from '../../src/stores/maildir/folder-seal.js';
import { MaildirStore } from '../../src/stores/maildir/maildir-store.js';
import { SealFile } from '../../src/stores/maildir/seal-file.js';
import { readUidListHeader, type UidListHeader } from '../../src/stores/maildir/uid-list.js';

let root: string;
let sealsFile: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'mf-maildir-seal-'));
  sealsFile = path.join(root, 'seals.json');
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const message = (n: number): AppendRequest => ({
  raw: Buffer.from(`From: a@example.org\r\nSubject: message ${n}\r\n\r\nbody ${n}\r\n`),
  flags: [],
  internalDate: new Date(Date.UTC(2020, 0, n, 12)),
});

/** A store over the backup in `root` with its seals, as a backup run has it. */
async function store(): Promise<{ store: MaildirStore; seals: SealFile }> {
  const manifest = (await ManifestFile.read(root)) ?? ManifestFile.fresh(root, { source: 'imap://me@example', format: 'maildir', layout: 'maildir++' });
  await manifest.save();
  const seals = await SealFile.read(sealsFile);
  return { store: new MaildirStore(manifest, `maildir:${root}`, 'maildir++', seals), seals };
}

/** Folder Work with three messages, written and closed by one run: its directory, seal and counters. */
async function writtenFolder(): Promise<{ dir: string; seal: FolderSeal | undefined; header: UidListHeader; seals: SealFile }> {
  const { store: s, seals } = await store();
  const folder = await s.createFolder(['Work'], { subscribe: true });
  const h = await s.openFolder(folder.name, 'write');
  await h.append([message(1), message(2), message(3)]);
  await h.close();
  const dir = path.join(root, folder.name);
  return { dir, seal: seals.get(folder.name), header: (await readUidListHeader(dir))!, seals };
}

describe('a Maildir folder seal', () => {
  it('is taken when a run closes a folder it wrote whole, and holds while nothing changes', async () => {
    const { dir, seal, header } = await writtenFolder();
    expect(seal).toMatchObject({ messages: 3, nextUid: 4 });
    expect(await stillSealed(dir, seal!, header)).toBe(true);
  });

  it('breaks when a message file is deleted', async () => {
    const { dir, seal, header } = await writtenFolder();
    await fs.rm(path.join(dir, 'cur', (await fs.readdir(path.join(dir, 'cur')))[0]!));
    expect(await stillSealed(dir, seal!, header)).toBe(false);
  });

  it('breaks when a message file is renamed, as a mail reader sets a flag', async () => {
    const { dir, seal, header } = await writtenFolder();
    const name = (await fs.readdir(path.join(dir, 'cur')))[0]!;
    await fs.rename(path.join(dir, 'cur', name), path.join(dir, 'cur', `${name.split(':')[0]}:2,S`));
    expect(await stillSealed(dir, seal!, header)).toBe(false);
  });

  it('breaks when mail is delivered to new/, and when the counters differ', async () => {
    const { dir, seal, header } = await writtenFolder();
    expect(await stillSealed(dir, seal!, { ...header, messages: header.messages + 1 })).toBe(false);
    await fs.writeFile(path.join(dir, 'new', '1700000000.M1P1.host'), 'Subject: delivered\r\n\r\nx\r\n');
    expect(await stillSealed(dir, seal!, header)).toBe(false);
  });

  it('is not taken of a folder that is not whole, nor, as found, of one changed in the last two seconds', async () => {
    const { dir } = await writtenFolder();
    expect(await checkAndSeal(dir, async () => false, 'just-written')).toEqual({ whole: false });
    // Just written: a change in the same tick of the clock could not be told from it yet.
    expect(await checkAndSeal(dir, async () => true, 'as-found')).toEqual({ whole: true });
    expect((await checkAndSeal(dir, async () => true, 'just-written')).seal).toMatchObject({ messages: 3 });
  });

  it('is dropped when a run closes a folder with a message file missing that it has not yet copied again', async () => {
    const { dir, seals } = await writtenFolder();
    await fs.rm(path.join(dir, 'cur', (await fs.readdir(path.join(dir, 'cur')))[0]!));
    await seals.save();

    const { store: s, seals: next } = await store();
    const h = await s.openFolder('Maildir/.Work', 'write');
    expect(h.lostCopies?.size).toBe(1);
    await h.close();
    expect(next.get('Maildir/.Work')).toBeUndefined();
  });

  it('is kept in a private file; a damaged one reads as no seals', async () => {
    const { seals } = await writtenFolder();
    await seals.save();
    expect((await fs.stat(sealsFile)).mode & 0o777).toBe(0o600);
    expect((await SealFile.read(sealsFile)).get('Maildir/.Work')).toMatchObject({ messages: 3 });

    await fs.writeFile(sealsFile, '{"version":1,"folders":{"Maildir/.Work":{"messages":"x"}}}');
    expect((await SealFile.read(sealsFile)).get('Maildir/.Work')).toBeUndefined();
    await fs.writeFile(sealsFile, 'not json');
    expect((await SealFile.read(sealsFile)).get('Maildir/.Work')).toBeUndefined();
  });
});

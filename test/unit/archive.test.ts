import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveBackup } from '../../src/archive/archive-backup.js';
import { archivePath, isArchiveOf, planArchive } from '../../src/archive/archive-pattern.js';
import { readArchive } from '../../src/archive/read-archive.js';

let work: string;
let backup: string;

beforeEach(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'mf-archive-'));
  backup = path.join(work, 'mail-backup');
  // A Maildir++ folder `Foo.Bar` is `.Foo\2eBar` on disk, as Dovecot names it.
  await fs.mkdir(path.join(backup, 'Maildir', '.Foo\\2eBar', 'cur'), { recursive: true });
  await fs.writeFile(path.join(backup, 'Maildir', '.Foo\\2eBar', 'cur', '1.M1P1Q1R0123456789abcdef.host,S=5:2,S'), 'hello');
  await fs.writeFile(path.join(backup, 'manifest.json'), '{}');
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('--archive PATTERN', () => {
  it('puts {date} into the file name and recognises its siblings of any date', () => {
    const plan = planArchive(path.join(work, 'mail-{date}.tar.gz'), backup);
    expect(plan.kind).toBe('tar.gz');
    expect(archivePath(plan, new Date(2026, 0, 2, 3, 4))).toBe(path.join(work, 'mail-2026-01-02.tar.gz'));
    expect(isArchiveOf(plan, 'mail-2025-12-31.tar.gz')).toBe(true);
    expect(isArchiveOf(plan, 'mail-2025-12-31.tar.gz.partial-12')).toBe(false);
    expect(isArchiveOf(plan, 'other-2025-12-31.tar.gz')).toBe(false);
  });

  it('refuses an unknown extension, {date} in a directory, and a place inside the backup', () => {
    expect(() => planArchive(path.join(work, 'mail.rar'), backup)).toThrow(/\.tar\.gz, \.tgz or \.zip/);
    expect(() => planArchive(path.join(work, '{date}', 'mail.zip'), backup)).toThrow(/only appear in the file name/);
    expect(() => planArchive(path.join(backup, 'mail.zip'), backup)).toThrow(/outside the backup directory/);
  });
});

describe('archiveBackup', () => {
  it('keeps a name with a backslash intact in a .tar.gz (archiver would turn it into a path)', async () => {
    const { path: file } = await archiveBackup(backup, planArchive(path.join(work, 'a-{date}.tar.gz'), backup), new Date());
    const names = [...(await readArchive(file, 'tar.gz')).keys()];
    expect(names).toContain('mail-backup/Maildir/.Foo\\2eBar/cur/1.M1P1Q1R0123456789abcdef.host,S=5:2,S');
  });

  it('refuses to put such a name into a .zip, whose format cannot hold it, and leaves no partial file', async () => {
    await expect(archiveBackup(backup, planArchive(path.join(work, 'a.zip'), backup), new Date())).rejects.toThrow(/use \.tar\.gz/);
    expect((await fs.readdir(work)).sort()).toEqual(['mail-backup']);
  });
});

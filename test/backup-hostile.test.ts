import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain } from '../src/sandbox/seed.js';
import { backupManifest, snapshotBackup, walk } from './support/backup-snapshot.js';
import { runCli } from './support/cli.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';
import { promisify } from 'node:util';

const PASSWORD = 'pw-Hostile-3';
/**
 * Folder names a server may hand us (correctness.md §3.4). Dovecot's default Maildir++ storage
 * refuses most; with LAYOUT=index it stores any valid name, so the source really has them all.
 */
const HOSTILE = [
  '..', '../x', 'a/../../b', '.hidden', 'Foo.Bar', 'con', 'back\\slash', '%', '*', '&', '~tilde', 'CUR', 'trailing dot.', 'x.mbox',
  'sp ace ', 'Ünïcödé/日本語', 'y'.repeat(250), 'é'.repeat(60), 'Work/.hidden/..',
];

let server: DovecotServer;
const work = mkdtempSync(path.join(tmpdir(), 'mf-backup-hostile-'));
/** The backups live one level down: anything escaping them would land in `outer`, where nothing else is. */
const outer = path.join(work, 'outer');
const addr = { host: '', port: 0, user: 'hostile', password: PASSWORD };

beforeAll(async () => {
  server = await startDovecot({ users: [{ name: 'hostile', password: PASSWORD, extra: 'userdb_mail=maildir:~/Maildir:LAYOUT=index' }] });
  Object.assign(addr, { host: server.host, port: server.port });
  const c = await connectPlain(addr);
  try {
    for (const [i, name] of HOSTILE.entries()) {
      await c.mailboxCreate(name);
      await c.append(name, Buffer.from(`Subject: in ${name}\r\nMessage-ID: <h${i}@x>\r\n\r\nbody ${i}\r\n`), i % 2 ? ['\\Seen'] : [], new Date(Date.UTC(2023, 0, 1 + i)));
    }
  } finally {
    await c.logout();
  }
  await fs.mkdir(outer);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('hostile folder names', () => {
  it.each([
    ['maildir++', ['--format', 'maildir']],
    ['fs', ['--format', 'maildir', '--layout', 'fs']],
    ['mbox', ['--format', 'mbox']],
  ])('%s: nothing is written outside the backup directory and every folder gets a path of its own', async (name, extra) => {
    const to = path.join(outer, name);
    const result = await runCli(['backup', '--from', `imap://hostile@${server.host}:${server.port}`, '--from-ca', server.caFile, '--to', to, '--json', ...extra], {
      MAILFERRY_FROM_PASSWORD: PASSWORD,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).totals).toMatchObject({ failed: 0 });

    const siblings = (await fs.readdir(outer)).sort();
    expect(siblings.every((s) => ['fs', 'maildir++', 'mbox'].includes(s))).toBe(true);
    for (const entry of await walk(to)) {
      expect(entry.type).not.toBe('other');
      const real = await fs.realpath(entry.path);
      expect(real === to || real.startsWith(to + path.sep)).toBe(true);
    }

    const manifest = (await backupManifest(to)).manifest;
    const source = await snapshotAccount(addr);
    expect(manifest.folders.map((f) => f.components.join('/')).sort()).toEqual([...source.keys()].sort());
    expect(new Set(manifest.folders.map((f) => f.path)).size).toBe(manifest.folders.length);
    const diff = diffSnapshots(source, await snapshotBackup(to));
    expect(diff.details).toEqual([]);
  });

  it('maildir++: a stock Dovecot (no listescape) serves every folder whose name it accepts under that name, with its mail', async () => {
    // Run after the test above, which wrote the backup.
    const to = path.join(outer, 'maildir++');
    // What a stock Dovecot with Maildir++ refuses in a component: its separator '.', '/', a leading
    // '~', the empty name; and a name longer than the 240 bytes mailferry shortens.
    const accepted = HOSTILE.filter((name) => name.split('/').every((c) => c !== '' && !c.includes('.') && !c.startsWith('~')) && Buffer.byteLength(name) < 200);
    expect(accepted).toEqual(expect.arrayContaining(['back\\slash', '%', '&', 'Ünïcödé/日本語']));
    const stock = await startDovecot({ users: [{ name: 'reader', password: PASSWORD }], layout: 'maildir++' });
    try {
      const home = stock.mailHome('reader');
      await fs.cp(path.join(to, 'Maildir'), path.join(home, 'Maildir'), { recursive: true, preserveTimestamps: true });
      const owner = await fs.stat(home);
      await promisify(execFile)('chown', ['-R', `${owner.uid}:${owner.gid}`, path.join(home, 'Maildir')]);
      const served = await snapshotAccount({ host: stock.host, port: stock.port, user: 'reader', password: PASSWORD });
      const source = await snapshotAccount(addr, { folders: accepted });
      const servedAccepted = new Map([...served].filter(([name]) => accepted.includes(name)));
      expect([...servedAccepted.keys()].sort()).toEqual([...accepted].sort());
      expect(diffSnapshots(source, servedAccepted).details).toEqual([]);
    } finally {
      await stock.stop();
    }
  });
});

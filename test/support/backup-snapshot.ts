// Reads a backup directory back into the oracle's Snapshot shape (test/support/oracle.ts), two ways:
// through mailferry's own stores (what a restore would send), and for mbox straight from the
// files as any mboxrd reader would (what mutt would show), independent of the index.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ManifestFile } from '../../src/stores/local/manifest.js';
import { MaildirStore } from '../../src/stores/maildir/maildir-store.js';
import { MboxStore } from '../../src/stores/mbox/mbox-store.js';
import { headerEnd, unquote } from '../../src/stores/mbox/mboxrd.js';
import { splitMbox } from './mbox-reader.js';
import type { Snapshot, Tuple } from './oracle.js';

export async function backupManifest(dir: string): Promise<ManifestFile> {
  const manifest = await ManifestFile.read(dir);
  if (!manifest) throw new Error(`${dir} has no manifest`);
  return manifest;
}

/** Every folder of the backup as mailferry's store reads it, keyed by its '/'-joined components. */
export async function snapshotBackup(dir: string): Promise<Snapshot> {
  const manifest = await backupManifest(dir);
  const m = manifest.manifest;
  const store = m.format === 'maildir' ? new MaildirStore(manifest, dir, m.layout) : new MboxStore(manifest, dir);
  const snapshot: Snapshot = new Map();
  for (const folder of await store.listFolders()) {
    const h = await store.openFolder(folder.name, 'read');
    const tuples: Tuple[] = [];
    for await (const msg of h.fetch((await h.scan({})).map((x) => x.uid))) {
      tuples.push({
        sha256: sha256(msg.raw),
        flags: [...msg.flags].sort(),
        internalDate: Math.floor(msg.internalDate.getTime() / 1000),
        size: msg.raw.length,
        uid: msg.uid,
      });
    }
    await h.close();
    snapshot.set(folder.components.join('/'), tuples);
  }
  return sorted(snapshot);
}

const FLAG_BLOCK = /Status: (..)\r?\nX-Status: (....)\r?\nX-Keywords:([^\n]*)\r?\n$/;

/**
 * The mbox files read as a mail reader does: split on From_ lines, mboxrd-unquoted, flags from
 * Status/X-Status/X-Keywords and the date from the From_ line. The flag block is the one mailferry
 * adds at the end of the headers; taking it out (and the newline added to a message that lacked
 * one, which the corpus never does) must leave the server's bytes.
 */
export async function snapshotMboxFiles(dir: string): Promise<Snapshot> {
  const manifest = await backupManifest(dir);
  const snapshot: Snapshot = new Map();
  for (const folder of manifest.folders()) {
    const file = await fs.readFile(path.join(dir, folder.path));
    snapshot.set(folder.components.join('/'), splitMbox(file).map((m, i) => readerView(m.fromLine, m.content, i + 1)));
  }
  return sorted(snapshot);
}

/** Folders in name order, as the oracle's own snapshots are. */
function sorted(snapshot: Snapshot): Snapshot {
  return new Map([...snapshot].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function readerView(fromLine: string, content: Buffer, uid: number): Tuple {
  const end = headerEnd(content);
  const head = content.subarray(0, end).toString('latin1');
  const block = FLAG_BLOCK.exec(head);
  if (!block) throw new Error(`message ${uid}: no Status/X-Status/X-Keywords block at the end of its headers`);
  const withoutBlock = Buffer.concat([content.subarray(0, block.index), content.subarray(end)]);
  const raw = unquote(withoutBlock);
  const flags = [
    ...(block[1]!.includes('R') ? ['\\Seen'] : []),
    ...(block[2]!.includes('A') ? ['\\Answered'] : []),
    ...(block[2]!.includes('F') ? ['\\Flagged'] : []),
    ...(block[2]!.includes('T') ? ['\\Draft'] : []),
    ...(block[2]!.includes('D') ? ['\\Deleted'] : []),
    ...block[3]!.trim().split(/\s+/).filter(Boolean),
  ];
  const date = /^From \S+ (.{24})$/.exec(fromLine)?.[1];
  if (!date) throw new Error(`message ${uid}: malformed From_ line ${JSON.stringify(fromLine)}`);
  return { sha256: sha256(raw), flags: flags.sort(), internalDate: Math.floor(Date.parse(`${date} UTC`) / 1000), size: raw.length, uid };
}

/** Every file and directory under `dir` with its mode, for permission checks. */
export async function walk(dir: string): Promise<Array<{ path: string; mode: number; type: 'file' | 'dir' | 'other' }>> {
  const out: Array<{ path: string; mode: number; type: 'file' | 'dir' | 'other' }> = [];
  const visit = async (p: string): Promise<void> => {
    const st = await fs.lstat(p);
    out.push({ path: p, mode: st.mode & 0o7777, type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other' });
    if (st.isDirectory()) for (const c of await fs.readdir(p)) await visit(path.join(p, c));
  };
  await visit(dir);
  return out;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

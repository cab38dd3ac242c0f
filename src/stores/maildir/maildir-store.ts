import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { maildirFolderPath, type MaildirLayout } from '../local/folder-path.js';
import { LocalStore, type FolderProbe, type LocalFolder } from '../local/local-store.js';
import type { ManifestFile } from '../local/manifest.js';
import { ensureDir, FILE_MODE, fsyncDir, isDirectory } from '../local/safe-fs.js';
import { MaildirFolder } from './maildir-folder.js';
import { recordedSize } from './maildir-names.js';
import { readUidListHeader, UidList } from './uid-list.js';

/**
 * A backup's `Maildir/` as a store, in the layout Dovecot uses by default (Maildir++: INBOX at the
 * root, subfolders as `.Name.Sub` siblings) or nested directories (`fs`, Dovecot's LAYOUT=fs).
 * A Dovecot whose mail_location points there serves the same folders, messages, flags, keywords,
 * INTERNALDATEs and UIDs; mutt, neomutt, mu and notmuch read it as any Maildir.
 */
export class MaildirStore extends LocalStore {
  constructor(
    manifest: ManifestFile,
    label: string,
    private readonly layout: MaildirLayout,
  ) {
    super(manifest, label);
  }

  protected segmentsFor(components: readonly string[], variant: number): string[] {
    return maildirFolderPath(components, this.layout, variant);
  }

  /** A folder exists once its `cur/` and a readable UID list do; the list's first line has its counters. */
  protected async probe(dir: string): Promise<FolderProbe> {
    if (!(await isDirectory(path.join(dir, 'cur')))) return { exists: false };
    const header = await readUidListHeader(dir);
    if (header) {
      const lost = await countLost(dir, header.messages);
      return { exists: true, status: { uidValidity: header.uidValidity, uidNext: header.nextUid, messages: header.messages, ...(lost > 0 ? { lost } : {}) } };
    }
    // Not in our shape (Dovecot rewrote it): still the folder, counted when it is opened.
    return { exists: (await UidList.load(dir)) !== undefined };
  }

  protected async createOnDisk(dir: string, uidValidity: number, inbox: boolean): Promise<void> {
    await ensureDir(dir);
    for (const sub of ['cur', 'new', 'tmp']) await ensureDir(path.join(dir, sub));
    // Courier and Dovecot mark Maildir++ subfolders with an empty `maildirfolder` file.
    if (this.layout === 'maildir++' && !inbox) {
      const marker = await fs.open(path.join(dir, 'maildirfolder'), 'a', FILE_MODE);
      await marker.chmod(FILE_MODE);
      await marker.close();
    }
    await UidList.create(dir, uidValidity);
    await fsyncDir(path.dirname(dir));
  }

  protected openOnDisk(dir: string, mode: 'read' | 'write'): Promise<LocalFolder> {
    return MaildirFolder.open(dir, mode);
  }
}

/**
 * Messages of the folder whose files are gone or not the size their names record: a name and a
 * stat per file, no reading, so a rerun notices a damaged backup for little cost. `listed` is the
 * count the UID list's header keeps; fewer files than that means some were deleted.
 */
async function countLost(dir: string, listed: number): Promise<number> {
  let files = 0;
  let cut = 0;
  for (const sub of ['cur', 'new']) {
    for (const name of await fs.readdir(path.join(dir, sub))) {
      if (name.startsWith('.')) continue;
      files++;
      const recorded = recordedSize(name);
      if (recorded !== undefined && (await fs.stat(path.join(dir, sub, name)).catch(() => undefined))?.size !== recorded) cut++;
    }
  }
  return Math.max(0, listed - files) + cut;
}

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { maildirFolderPath, type MaildirLayout } from '../local/folder-path.js';
import { LocalStore, type FolderProbe, type LocalFolder } from '../local/local-store.js';
import type { ManifestFile } from '../local/manifest.js';
import { ensureDir, FILE_MODE, fsyncDir, isDirectory } from '../local/safe-fs.js';
import { checkAndSeal, stillSealed } from './folder-seal.js';
import { MaildirFolder } from './maildir-folder.js';
import { recordedSize } from './maildir-names.js';
import type { SealFile } from './seal-file.js';
import { readUidListHeader, UidList, type UidListHeader } from './uid-list.js';

/**
 * A backup's `Maildir/` as a store, in the layout Dovecot uses by default (Maildir++: INBOX at the
 * root, subfolders as `.Name.Sub` siblings) or nested directories (`fs`, Dovecot's LAYOUT=fs).
 * A Dovecot whose mail_location points there serves the same folders, messages, flags, keywords,
 * INTERNALDATEs and UIDs; mutt, neomutt, mu and notmuch read it as any Maildir.
 *
 * As a backup's destination it is given the backup's `seals`: a folder left whole is sealed, and
 * while it stays as sealed, listing it costs two stats rather than a look at every message file.
 */
export class MaildirStore extends LocalStore {
  constructor(
    manifest: ManifestFile,
    label: string,
    private readonly layout: MaildirLayout,
    private readonly seals?: SealFile,
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
      const lost = await this.lostIn(dir, header);
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

  protected async openOnDisk(dir: string, mode: 'read' | 'write'): Promise<LocalFolder> {
    const seals = this.seals;
    const key = this.keyOf(dir);
    if (!seals || mode === 'read') return MaildirFolder.open(dir, mode);
    const found = seals.get(key);
    const header = found ? await readUidListHeader(dir) : undefined;
    const sealed = found !== undefined && header !== undefined && (await stillSealed(dir, found, header));
    return MaildirFolder.open(dir, mode, async (isWhole) => seals.put(key, (await checkAndSeal(dir, isWhole, 'just-written')).seal), sealed);
  }

  /**
   * Listed messages whose files are missing or damaged: none while the folder is as sealed;
   * otherwise counted file by file, and the folder sealed when none is.
   */
  private async lostIn(dir: string, header: UidListHeader): Promise<number> {
    if (!this.seals) return countLost(dir, header.messages);
    const key = this.keyOf(dir);
    const seal = this.seals.get(key);
    if (seal && (await stillSealed(dir, seal, header))) return 0;
    let lost: number | undefined;
    const checked = await checkAndSeal(dir, async (now) => {
      lost = await countLost(dir, header.messages);
      return lost === 0 && now.uidValidity === header.uidValidity && now.nextUid === header.nextUid && now.messages === header.messages;
    }, 'as-found');
    this.seals.put(key, checked.seal);
    return lost ?? (await countLost(dir, header.messages));
  }

  /** A folder's key in the seals: its path in the backup as the manifest writes it, which stays when the backup is moved. */
  private keyOf(dir: string): string {
    return path.relative(this.manifest.root, dir).split(path.sep).join('/');
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

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { mboxFolderPath, resolveInside } from '../local/folder-path.js';
import { LocalStore, type FolderProbe, type LocalFolder } from '../local/local-store.js';
import type { ManifestFile } from '../local/manifest.js';
import { createExclusive, ensureDirs, fsyncDir } from '../local/safe-fs.js';
import { MboxFolder } from './mbox-folder.js';
import { MboxIndex } from './mbox-index.js';

/** Where the indexes live, beside the checkpoint: `mbox/` itself holds only mailboxes. */
const INDEX_DIR = ['.mailferry', 'mbox-index'];

/**
 * A backup's `mbox/` as a store: one mboxrd file per folder (`Work.mbox`, its subfolders in
 * `Work/`), with Status/X-Status/X-Keywords headers so mutt and Dovecot show the flags, and a
 * sidecar index per folder that gives back every message's original bytes.
 */
export class MboxStore extends LocalStore {
  constructor(manifest: ManifestFile, label: string) {
    super(manifest, label);
  }

  protected segmentsFor(components: readonly string[], variant: number): string[] {
    return mboxFolderPath(components, variant);
  }

  protected async probe(file: string): Promise<FolderProbe> {
    let isFile: boolean;
    try {
      isFile = (await fs.lstat(file)).isFile();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return { exists: false };
    }
    const counters = isFile ? await MboxIndex.counters(this.indexOf(file)) : undefined;
    if (!counters) return { exists: false };
    const { end, ...status } = counters;
    // A stat per mbox: one cut short (its index says more) has lost its last messages.
    const size = (await fs.stat(file)).size;
    const lost = end !== undefined && size < end ? await this.countLost(file, size) : 0;
    return { exists: true, status: lost > 0 ? { ...status, lost } : status };
  }

  /**
   * A new empty mbox and index. An mbox that is already there without a usable index cannot be
   * trusted to give back exact bytes, so it is kept aside (`<name>.mbox.unindexed-<uidvalidity>`)
   * rather than appended to or overwritten; the run then backs the folder up anew.
   */
  protected async createOnDisk(file: string, uidValidity: number): Promise<void> {
    try {
      const st = await fs.lstat(file);
      if (st.size > 0 || !st.isFile()) await fs.rename(file, `${file}.unindexed-${uidValidity}`);
      else await fs.rm(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const index = this.indexOf(file);
    await ensureDirs(this.manifest.root, path.relative(this.manifest.root, path.dirname(index)).split(path.sep));
    await MboxIndex.create(index, uidValidity);
    await (await createExclusive(file)).close();
    await fsyncDir(path.dirname(file));
  }

  /** Messages the index places (partly) past `size`. */
  private async countLost(file: string, size: number): Promise<number> {
    const index = await MboxIndex.load(this.indexOf(file), false);
    return index ? [...index.messages.values()].filter((m) => m.offset + m.length > size).length : 0;
  }

  protected openOnDisk(file: string, mode: 'read' | 'write'): Promise<LocalFolder> {
    return MboxFolder.open(file, this.indexOf(file), mode);
  }

  /** `mbox/Work/Sub.mbox` is indexed in `.mailferry/mbox-index/Work/Sub.mbox.index`. */
  private indexOf(file: string): string {
    const segments = path.relative(path.join(this.manifest.root, this.manifest.mailRoot), file).split(path.sep);
    segments[segments.length - 1] += '.index';
    return resolveInside(this.manifest.root, [...INDEX_DIR, ...segments]);
  }
}

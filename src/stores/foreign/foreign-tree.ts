import type { FolderInfo, FolderStatus } from '../../domain/types.js';
import type { SpecialUseNames } from '../../config/profile-schema.js';
import { specialUseByName } from '../../config/profile-special-use.js';
import { FolderError } from '../../errors/errors.js';
import type { ReadableFolder, ReadableTree } from '../local-source.js';
import type { ListedFolder } from './listed-folder.js';

/** One folder found in a tree of mail other programs wrote. */
export interface TreeFolder {
  /** Its path relative to the tree ('.' for the top directory): the folder's name in the store. */
  name: string;
  components: string[];
  /** Counters without loading the folder, where the format allows (Maildir: a directory listing). */
  status?: () => Promise<FolderStatus>;
  load: () => Promise<ListedFolder>;
}

/**
 * Folders other programs wrote, read-only. Each folder is loaded (listed, and for an mbox read
 * through) once, on first use, and shared by every handle opened on it. Such trees carry no
 * special-use attributes, so folders are given one by name, from the side's provider profile
 * (`Sent`, `Sent Items`, `Gesendet`, ... see profiles/generic.json), as for a server without
 * SPECIAL-USE.
 */
export class ForeignTree implements ReadableTree {
  private readonly loaded = new Map<string, Promise<ListedFolder>>();

  constructor(
    private readonly folders: readonly TreeFolder[],
    private readonly specialUseNames: SpecialUseNames,
  ) {}

  async listFolders(): Promise<FolderInfo[]> {
    const infos: FolderInfo[] = [];
    for (const f of this.folders) {
      const status = f.status ? await f.status() : (await this.load(f)).status;
      infos.push({ name: f.name, components: [...f.components], delimiter: '/', subscribed: true, status });
    }
    const uses = specialUseByName(infos, this.specialUseNames);
    return infos.map((f) => ({ ...f, specialUse: uses.get(f.name) }));
  }

  async openFolder(name: string): Promise<ReadableFolder> {
    const f = this.folders.find((x) => x.name === name);
    if (!f) throw new FolderError(`no folder ${name}`, 'no-such-folder');
    return this.load(f);
  }

  private load(f: TreeFolder): Promise<ListedFolder> {
    let p = this.loaded.get(f.name);
    if (!p) {
      p = f.load();
      // A failed load is not kept: the engine's retry loads afresh.
      p.catch(() => this.loaded.delete(f.name));
      this.loaded.set(f.name, p);
    }
    return p;
  }
}

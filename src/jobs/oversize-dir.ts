import { constants } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import type { MessageData } from '../domain/types.js';
import type { OversizeSink } from '../engine/oversize.js';
import { escapeComponent, resolveInside } from '../stores/local/folder-path.js';
import { ensureDir, ensureDirs, FILE_MODE } from '../stores/local/safe-fs.js';

/**
 * `--oversize-dir DIR`: one `.eml` file per refused message, under the folder's escaped path
 * (the same untrusted-name escaping as backups), named `<UIDVALIDITY>-<UID>.eml`, mode 0600.
 */
export class OversizeDir implements OversizeSink {
  constructor(private readonly root: string) {}

  async save(folderComponents: string[], uidValidity: number, message: MessageData): Promise<string> {
    const segments = folderComponents.map((c) => escapeComponent(c));
    await ensureDir(this.root);
    await ensureDirs(this.root, segments);
    const file = resolveInside(this.root, [...segments, `${uidValidity}-${message.uid}.eml`]);
    // O_NOFOLLOW: a symlink planted under the directory is refused, not written through.
    await writeFile(file, message.raw, { mode: FILE_MODE, flag: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW });
    await chmod(file, FILE_MODE);
    return file;
  }
}

import { MAIL_ROOT, type BackupFormat, type ManifestFolder } from '../stores/local/manifest.js';

/**
 * Whether `rel`, a path inside a backup directory, belongs to what the stores need to read
 * `folder` (the layout of docs/backup.md):
 *
 * - Maildir: the folder directory's own entries (`dovecot-uidlist`, `dovecot-keywords`, `cur/`,
 *   `new/`, `tmp/`) and everything in `cur/` and `new/`; not its subfolders' contents;
 * - mbox: the folder's `.mbox` file and its index, `.mailferry/mbox-index/<path>.mbox.index`
 *   (where mbox-store.ts keeps it).
 */
export function isPartOfFolder(rel: string, folder: ManifestFolder, format: BackupFormat): boolean {
  if (format === 'mbox') {
    const index = `.mailferry/mbox-index/${folder.path.slice(MAIL_ROOT.mbox.length + 1)}.index`;
    return rel === folder.path || rel === index;
  }
  if (rel === folder.path) return true;
  if (!rel.startsWith(`${folder.path}/`)) return false;
  const inside = rel.slice(folder.path.length + 1);
  return !inside.includes('/') || inside.startsWith('cur/') || inside.startsWith('new/');
}

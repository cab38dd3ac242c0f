import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { decodeMutf7 } from '../local/mutf7.js';
import type { TreeFolder } from './foreign-tree.js';
import { loadMaildir, maildirStatus } from './maildir-folder.js';

/**
 * The Maildir folders of a tree other programs wrote. A folder is a directory with `cur/` or
 * `new/` (`tmp/` may be missing: git and some copies drop empty directories). Layouts:
 *
 * - Maildir++ (Dovecot's default, Courier, mbsync `SubFolders Maildir++`): the top directory is
 *   INBOX and `.Work.Projects` beside `cur/` is Work/Projects, each level decoded as Dovecot
 *   encodes it (listescape `\2e` for `.`, modified UTF-7 for non-ASCII);
 * - fs (Dovecot `LAYOUT=fs`, mbsync `SubFolders Verbatim`, OfflineIMAP, notmuch): nested
 *   directories, each level one component, decoded from modified UTF-7 when it is valid
 *   modified UTF-7 (`R&D` stays as it is). A top directory that is itself a Maildir is INBOX;
 *   an `INBOX` directory (mbsync, OfflineIMAP) is INBOX too. OfflineIMAP's flat `Work.Projects`
 *   (its `sep = .`) stays one folder named `Work.Projects`.
 *
 * Hidden directories other than Maildir++ folders (`.notmuch`, `.git`) and symlinks are not
 * entered. `ignored` counts the files found outside `cur/` and `new/` that are not Maildir
 * bookkeeping, so the user learns what was not restored.
 */
export async function findMaildirs(root: string): Promise<{ folders: TreeFolder[]; ignored: number }> {
  const folders: TreeFolder[] = [];
  let ignored = 0;
  const visit = async (dir: string, rel: string[], components: string[]): Promise<void> => {
    const children = await fs.readdir(dir, { withFileTypes: true });
    const maildir = isMaildir(children);
    if (maildir) folders.push(folder(dir, rel, components.length > 0 ? components : ['INBOX']));
    for (const child of children) {
      if (child.isFile()) {
        if (!BOOKKEEPING.test(child.name)) ignored++;
        continue;
      }
      if (!child.isDirectory() || (maildir && MAILDIR_DIRS.has(child.name))) continue;
      const at = path.join(dir, child.name);
      if (child.name.startsWith('.')) {
        // Maildir++ folders live beside the top directory's cur/ only.
        if (rel.length === 0 && isMaildir(await fs.readdir(at, { withFileTypes: true }))) {
          folders.push(folder(at, [child.name], plusPlusComponents(child.name.slice(1))));
        }
        continue;
      }
      await visit(at, [...rel, child.name], [...components, decodeLevel(child.name)]);
    }
  };
  await visit(root, [], []);
  return { folders, ignored };
}

const MAILDIR_DIRS = new Set(['cur', 'new', 'tmp']);
/** Files a Maildir keeps beside its messages (Dovecot, Courier, mbsync, OfflineIMAP, notmuch). */
const BOOKKEEPING = /^(\.|dovecot|courier|maildirfolder$|subscriptions$)/;

function isMaildir(children: Dirent[]): boolean {
  return children.some((c) => c.isDirectory() && (c.name === 'cur' || c.name === 'new'));
}

function folder(dir: string, rel: string[], components: string[]): TreeFolder {
  return { name: rel.length > 0 ? rel.join('/') : '.', components, status: () => maildirStatus(dir), load: () => loadMaildir(dir) };
}

/** `Work.Projects` (after the leading dot) as Dovecot writes it: `\xx` escapes, `\` alone for an empty level. */
function plusPlusComponents(name: string): string[] {
  return name.split('.').map((level) => {
    if (level === '\\') return '';
    return decodeLevel(level.replace(/\\([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))));
  });
}

function decodeLevel(name: string): string {
  return decodeMutf7(name) ?? name;
}

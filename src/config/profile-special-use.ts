import type { FolderInfo, SpecialUse } from '../domain/types.js';
import { SPECIAL_USE_KEYS, type SpecialUseNames } from './profile-schema.js';

/**
 * Special uses by folder name, for a server that marks no folder with a SPECIAL-USE attribute
 * (RFC 6154): a Dovecot namespace without `special_use`, Microsoft 365, many older servers.
 *
 * The profile's lists are the only source, so what a folder counts as is documented data the
 * user can override, not a library's guess. Each use goes to one folder and each folder gets at
 * most one use; an earlier name in a list wins over a later one. Names are compared
 * case-insensitively, with '/' between levels and without the namespace prefix.
 */
export function specialUseByName(folders: FolderInfo[], names: SpecialUseNames): Map<string, SpecialUse> {
  const byKey = new Map<string, FolderInfo>();
  for (const f of folders) {
    const key = fold(f.components.join('/'));
    if (!byKey.has(key)) byKey.set(key, f);
  }
  const assigned = new Map<string, SpecialUse>();
  for (const [key, use] of Object.entries(SPECIAL_USE_KEYS) as Array<[keyof SpecialUseNames, SpecialUse]>) {
    for (const name of names[key] ?? []) {
      const folder = byKey.get(fold(name));
      if (folder && !assigned.has(folder.name)) {
        assigned.set(folder.name, use);
        break;
      }
    }
  }
  return assigned;
}

/** Servers differ in case and in Unicode normalization (a decomposed 'É' from macOS clients). */
function fold(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

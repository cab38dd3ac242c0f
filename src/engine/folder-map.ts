import type { FolderInfo, SpecialUse } from '../domain/types.js';
import { UsageError } from '../errors/errors.js';
import { checkRegexMapped, expandRegexMaps, type RegexMap } from './regex-map.js';

export interface FolderSelection {
  /** `--folder`: only these source folders (name as listed, or '/'-separated). */
  include: string[];
  /** `--exclude`: leave out source folders whose name matches. */
  exclude: RegExp[];
  /**
   * `--map SRC=DEST`: DEST is '/'-separated whatever the destination's delimiter. A map that
   * matches no source folder is refused, unless it only applies `ifPresent` (a profile's own).
   */
  map: Array<{ from: string; to: string; ifPresent?: boolean }>;
  /** `--map '^PATTERN=DEST'`: regular-expression maps (see regex-map.ts), after the literal ones. */
  regexMap?: RegexMap[];
  /** `--recursive`: `include` also takes each named folder's subfolders. */
  recursive?: boolean;
  /** `--into PREFIX`: put every folder under these components (restore), keeping its own path. */
  into?: string[];
}

export interface PlannedFolder {
  source: FolderInfo;
  /** The existing destination folder, or undefined when it must be created. */
  dest?: FolderInfo;
  destComponents: string[];
  specialUse?: SpecialUse;
  subscribe: boolean;
  /** Why the name differs from the source's, for the report. */
  note?: string;
}

const DELIMITER_SUBSTITUTE = '_';

/**
 * Pure: which source folder goes to which destination folder. Special-use folders go to the
 * destination's folder of that use whatever its name; everything else keeps its hierarchy, joined
 * with the destination's delimiter (a component that contains that delimiter has it replaced, and
 * the plan says so, rather than silently creating a deeper hierarchy).
 */
export function planFolders(source: FolderInfo[], dest: FolderInfo[], destDelimiter: string, selection: FolderSelection): PlannedFolder[] {
  const { selection: sel, mapped } = expandRegexMaps(source, selection);
  for (const name of sel.include) {
    if (!source.some((f) => matches(f, name))) throw new UsageError(`--folder ${name}: no such folder at the source`);
  }
  // A map that applies to nothing is a typo as surely as a --folder that names nothing.
  for (const m of sel.map) {
    if (!m.ifPresent && !source.some((f) => matches(f, m.from))) throw new UsageError(`--map ${m.from}=${m.to}: no such folder at the source`);
  }
  const included = (f: FolderInfo): boolean =>
    sel.include.length === 0 || sel.include.some((n) => matches(f, n) || (!!sel.recursive && isBelow(f, n, source)));
  const destByKey = new Map(dest.map((f) => [key(f.components), f]));
  const destByUse = new Map<SpecialUse, FolderInfo>();
  for (const f of dest) if (f.specialUse && !destByUse.has(f.specialUse)) destByUse.set(f.specialUse, f);

  const planned: PlannedFolder[] = [];
  for (const f of source) {
    if (!included(f)) continue;
    if (sel.exclude.some((re) => re.test(f.name) || re.test(f.components.join('/')))) continue;
    const mapped = sel.map.find((m) => matches(f, m.from));
    let components: string[];
    let note: string | undefined;
    let existing: FolderInfo | undefined;
    if (sel.into) {
      // Restoring under a prefix: every folder keeps its path below it, special-use ones too.
      components = [...sel.into, ...f.components.map((c) => c.split(destDelimiter).join(DELIMITER_SUBSTITUTE))];
      existing = destByKey.get(key(components));
    } else if (mapped) {
      components = mapped.to.split('/').filter((c) => c.length > 0);
      if (components.length === 0) throw new UsageError(`--map ${mapped.from}=${mapped.to}: empty destination name`);
      existing = destByKey.get(key(components));
    } else if (f.specialUse && destByUse.has(f.specialUse)) {
      existing = destByUse.get(f.specialUse);
      components = existing!.components;
    } else {
      components = f.components.map((c) => c.split(destDelimiter).join(DELIMITER_SUBSTITUTE));
      if (components.some((c, i) => c !== f.components[i])) {
        note = `'${destDelimiter}' in a name is the destination's hierarchy delimiter: replaced by '${DELIMITER_SUBSTITUTE}'`;
      }
      existing = destByKey.get(key(components));
    }
    planned.push({ source: f, dest: existing, destComponents: components, specialUse: f.specialUse, subscribe: f.subscribed, note });
  }
  checkRegexMapped(planned, destDelimiter, mapped);
  return planned;
}

function matches(f: FolderInfo, name: string): boolean {
  if (f.name === name || f.components.join('/') === name) return true;
  return isInbox(f.components) && name.toUpperCase() === 'INBOX';
}

/** Whether `f` lies below the folder named `name` (by its components, so delimiters don't matter). */
function isBelow(f: FolderInfo, name: string, all: FolderInfo[]): boolean {
  const parent = all.find((p) => matches(p, name));
  const pc = parent ? parent.components : name.split('/');
  return f.components.length > pc.length && pc.every((c, i) => f.components[i] === c);
}

function isInbox(components: string[]): boolean {
  return components.length === 1 && components[0]!.toUpperCase() === 'INBOX';
}

/** INBOX is case-insensitive (RFC 3501 §5.1); nothing else is. */
function key(components: string[]): string {
  return isInbox(components) ? 'INBOX' : components.join('\u0000');
}

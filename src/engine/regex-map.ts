import type { FolderInfo } from '../domain/types.js';
import { UsageError } from '../errors/errors.js';
import type { FolderSelection, PlannedFolder } from './folder-map.js';

/**
 * `--map '^PATTERN=DEST'`: imapsync's --regextrans2. A map whose SRC begins with `^` is a regular
 * expression over the source folder's path (levels joined with `/`); the part it matches is
 * replaced by DEST, where `$1`, `$2`, `$<name>` are its groups, and the result, split at `/`, is the
 * destination folder's levels.
 */
export interface RegexMap {
  /** As the user wrote it, for messages. */
  text: string;
  pattern: RegExp;
  to: string;
}

/** Whether a `--map` value is a regular expression rather than a folder name. */
export function isRegexMap(text: string): boolean {
  return text.startsWith('^');
}

export function parseRegexMap(text: string): RegexMap {
  const eq = separator(text);
  if (eq < 0 || eq === text.length - 1) throw new UsageError(`--map ${text}: expected '^PATTERN=DEST'`);
  try {
    return { text, pattern: new RegExp(text.slice(0, eq)), to: text.slice(eq + 1) };
  } catch {
    throw new UsageError(`--map ${text}: ${text.slice(0, eq)} is not a valid regular expression`);
  }
}

/**
 * The `=` between pattern and destination: the first one that is not escaped (`\=` matches an `=`
 * in a folder name) and does not belong to a lookaround (`(?=`, `(?<=`).
 */
function separator(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '=' && !/\(\?<?$/.test(text.slice(0, i))) return i;
  }
  return -1;
}

/**
 * The selection with each source folder a regex map names turned into a literal map, after the
 * user's literal ones (a literal map of a folder wins), the first regex that matches a folder
 * winning. Also answers which source folder got which name from which regex, for `checkRegexMapped`.
 */
export function expandRegexMaps(source: FolderInfo[], sel: FolderSelection): { selection: FolderSelection; mapped: Map<string, { map: RegexMap; components: string[] }> } {
  const mapped = new Map<string, { map: RegexMap; components: string[] }>();
  const maps = sel.regexMap ?? [];
  if (maps.length === 0) return { selection: sel, mapped };
  const paths = source.map((f) => f.components.join('/'));
  const unused = maps.find((m) => !paths.some((p) => m.pattern.test(p)));
  if (unused) throw new UsageError(`--map ${unused.text}: matches no source folder`);
  const literal: Array<{ from: string; to: string }> = [];
  for (const f of source) {
    const path = f.components.join('/');
    const map = maps.find((m) => m.pattern.test(path));
    if (!map) continue;
    if (f.components.some((c) => c.includes('/'))) {
      throw new UsageError(`--map ${map.text}: source folder ${f.name} has a '/' inside a level's name, which a pattern cannot tell from a level; map it with a literal --map`);
    }
    const to = path.replace(map.pattern, map.to);
    const components = to.split('/');
    checkName(map, path, to, components);
    mapped.set(f.name, { map, components });
    literal.push({ from: path, to });
  }
  return { selection: { ...sel, map: [...sel.map, ...literal] }, mapped };
}

function checkName(map: RegexMap, path: string, to: string, components: string[]): void {
  const bad = (why: string): UsageError => new UsageError(`--map ${map.text}: ${path} would become ${JSON.stringify(to)}, ${why}`);
  if (components.some((c) => c.length === 0)) throw bad('which has an empty level');
  // A control character cannot be part of an IMAP mailbox name (nor of a safe file name).
  if (/[\u0000-\u001f\u007f]/.test(to)) throw bad('which holds a control character');
}

/**
 * After planning: a regex map must not send two folders to one destination folder (their mail
 * would merge), nor make a level the destination would read as two (one holding its delimiter).
 */
export function checkRegexMapped(planned: PlannedFolder[], destDelimiter: string, mapped: Map<string, { map: RegexMap; components: string[] }>): void {
  if (mapped.size === 0) return;
  const byDest = new Map<string, PlannedFolder>();
  for (const p of planned) {
    const regex = mapped.get(p.source.name);
    const mine = regex && sameLevels(regex.components, p.destComponents) ? regex : undefined;
    if (mine && destDelimiter !== '/' && p.destComponents.some((c) => c.includes(destDelimiter))) {
      throw new UsageError(
        `--map ${mine.map.text}: ${p.source.components.join('/')} would become ${JSON.stringify(p.destComponents.join('/'))}, and '${destDelimiter}' is the destination's hierarchy delimiter: use / between levels`,
      );
    }
    const key = destKey(p.destComponents);
    const other = byDest.get(key);
    if (other) {
      const rule = mine?.map ?? regexOf(other, mapped);
      if (rule) throw new UsageError(`--map ${rule.text}: sends both ${other.source.name} and ${p.source.name} to ${p.destComponents.join('/')}`);
    }
    byDest.set(key, p);
  }
}

function regexOf(p: PlannedFolder, mapped: Map<string, { map: RegexMap; components: string[] }>): RegexMap | undefined {
  const regex = mapped.get(p.source.name);
  return regex && sameLevels(regex.components, p.destComponents) ? regex.map : undefined;
}

function sameLevels(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/** INBOX is case-insensitive (RFC 3501 §5.1); nothing else is. */
function destKey(components: string[]): string {
  return components.length === 1 && components[0]!.toUpperCase() === 'INBOX' ? 'INBOX' : components.join('\u0000');
}

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Keywords } from './keywords.js';

/**
 * Maildir file names (cr.yp.to/proto/maildir.html, Dovecot's extensions, correctness.md §4.2):
 * `<secs>.M<usecs>P<pid>Q<counter>R<16 hex>.<host>,S=<size>:2,<flags>`. The part before `:2,` is
 * the base name, unique by construction and never changed; the flags after it are.
 */

/** Flag letters in ASCII order, as the Maildir spec requires them sorted. */
const SYSTEM_LETTERS: ReadonlyArray<readonly [string, string]> = [
  ['D', '\\Draft'],
  ['F', '\\Flagged'],
  ['R', '\\Answered'],
  ['S', '\\Seen'],
  ['T', '\\Deleted'],
];
export const SYSTEM_FLAGS: readonly string[] = SYSTEM_LETTERS.map(([, f]) => f);

/** `P` (passed) is the Maildir spelling of $Forwarded for mutt and others; Dovecot ignores `P`. */
const FORWARDED = '$Forwarded';

// The host name must not bring a '/' (path), ':' (info) or ',' (field separator) into the name.
const HOST = hostname().replace(/\//g, '\\057').replace(/:/g, '\\072').replace(/,/g, '\\054') || 'localhost';
let counter = 0;

/** Matches the names this module makes, so a resume deletes only its own `tmp/` leftovers. */
export const OWN_NAME = /^\d+\.M\d+P\d+Q\d+R[0-9a-f]{16}\./;

export function uniqueBase(size: number): string {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const secs = Math.floor(micros / 1e6);
  // Joined, not a template literal: V8 keeps a template's result as a tree of its thirteen pieces
  // (473 bytes a name against 86), and an open folder keeps the name of every message written to
  // it (a backup of a 71,000-message INBOX: 485,000 such pieces, 15 MB of its heap).
  return [secs, '.M', micros % 1e6, 'P', process.pid, 'Q', ++counter, 'R', randomBytes(8).toString('hex'), '.', HOST, ',S=', size].join('');
}

/** The size a file name records (`,S=<size>`, ours and Dovecot's), if it records one. */
export function recordedSize(fileName: string): number | undefined {
  const m = /,S=(\d+)/.exec(baseOf(fileName));
  return m ? Number(m[1]) : undefined;
}

/** The base name: everything before the `:2,` info. */
export function baseOf(fileName: string): string {
  const colon = fileName.indexOf(':');
  return colon >= 0 ? fileName.slice(0, colon) : fileName;
}

/**
 * The `2,` info for these flags: system flag letters, `P` for $Forwarded, then keyword letters,
 * all in ASCII order. Keywords without a letter (past the 26th) are not representable and left out.
 */
export function infoFor(flags: readonly string[], keywords: Keywords): string {
  const letters: string[] = [];
  for (const flag of flags) {
    const system = SYSTEM_LETTERS.find(([, f]) => f.toLowerCase() === flag.toLowerCase());
    if (system) letters.push(system[0]);
    else if (!flag.startsWith('\\')) {
      const letter = keywords.letterOf(flag);
      if (letter) letters.push(letter);
      if (flag === FORWARDED) letters.push('P');
    }
  }
  return `2,${[...new Set(letters)].sort().join('')}`;
}

/** Flags and keywords named by a file name's info; unknown letters are ignored, as Dovecot does. */
export function flagsOf(fileName: string, keywords: Keywords): string[] {
  const colon = fileName.lastIndexOf(':');
  if (colon < 0 || !fileName.startsWith('2,', colon + 1)) return [];
  const flags = new Set<string>();
  for (const letter of fileName.slice(colon + 3)) {
    const system = SYSTEM_LETTERS.find(([l]) => l === letter);
    if (system) flags.add(system[1]);
    else if (letter === 'P') flags.add(FORWARDED);
    else if (letter >= 'a' && letter <= 'z') {
      const keyword = keywords.keywordOf(letter);
      if (keyword) flags.add(keyword);
    }
  }
  return [...flags];
}

/** Keywords (not system flags) among `flags`. */
export function keywordsIn(flags: readonly string[]): string[] {
  return flags.filter((f) => !f.startsWith('\\'));
}

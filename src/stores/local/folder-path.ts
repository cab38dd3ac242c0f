import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { FolderError } from '../../errors/errors.js';
import { encodeMutf7 } from './mutf7.js';

/**
 * Server folder names are untrusted input (correctness.md §3.4): this module is the one place
 * that turns a folder's hierarchy components into path segments under a backup's mail root.
 *
 * Every mapping here is injective (two different folders never share a path) and every segment
 * is a plain file name: never empty, `.` or `..`, never containing `/` or NUL, at most 255 bytes.
 * `resolveInside` then checks the joined path, so a bug here still cannot write outside the root.
 */

export type MaildirLayout = 'maildir++' | 'fs';

/** Longest segment we produce before shortening it, leaving room for `.mbox` and a variant suffix. */
const SEGMENT_LIMIT = 240;
const TRUNCATED_PREFIX = 200;
const HASH_DIGITS = 12;

/** Characters that are unsafe or unportable in a file name (POSIX separators, Windows' reserved set). */
const PERCENT_ESCAPED = new Set(['%', '/', '\\', ':', '*', '?', '"', '<', '>', '|']);
/** Device names Windows refuses with any extension (`con`, `con.txt`, `COM1`, ...). */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
/** Names a Maildir folder directory holds besides its subfolders (`--layout fs`). */
const MAILDIR_ENTRY = /^(cur|new|tmp|maildirfolder|subscriptions|dovecot[.-].*)$/i;

export function isInbox(components: readonly string[]): boolean {
  return components.length === 1 && components[0]!.toUpperCase() === 'INBOX';
}

/**
 * One component as a portable file name, percent-escaped (`%XX`, upper-case hex) so the mapping
 * reverses unambiguously: control characters, `%`, `/`, `\` and Windows' `:*?"<>|`; a leading
 * `.` (hidden files, `.`, `..`); a trailing `.` or space (Windows drops them); the first letter of
 * Windows device names and of names in `reserved`. Non-ASCII stays UTF-8. The empty name is `%`,
 * which no other name produces.
 */
export function escapeComponent(component: string, reserved?: RegExp): string {
  if (component === '') return '%';
  const tokens: string[] = [];
  for (const ch of component) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp === 0x7f || PERCENT_ESCAPED.has(ch)) tokens.push(percent(Buffer.from([cp])));
    // A lone surrogate has no UTF-8 form (Buffer would turn it into U+FFFD, merging names).
    else if (cp >= 0xd800 && cp <= 0xdfff) tokens.push(percent(wtf8(cp)));
    else tokens.push(ch);
  }
  const escapeAt = (i: number): void => {
    tokens[i] = percent(Buffer.from(tokens[i]!, 'utf8'));
  };
  if (tokens[0] === '.') escapeAt(0);
  const last = tokens.length - 1;
  if (tokens[last] === '.' || tokens[last] === ' ') escapeAt(last);
  const joined = tokens.join('');
  if (WINDOWS_DEVICE.test(joined) || reserved?.test(joined)) escapeAt(0);
  return shorten(tokens, '%#');
}

/**
 * The Maildir++ directory name of a folder, as Dovecot 2.3 names it: `.` and the components
 * joined by `.`, each in modified UTF-7 (`Ünï` is `.&ANw-n&AO8-`). Only what the layout forbids in
 * a component is escaped, in listescape's `\xx`: `.` (the separator), `/` and a leading `~`
 * (`Foo.Bar` is `.Foo\2eBar`, verified against Dovecot 2.3.19 with listescape). A stock Dovecot
 * refuses those names, and serves every name it accepts from the same directory name as ours:
 * it stores them unescaped (`back\slash` is `.back\slash`). A `\` stays too, except where a
 * reader could take it for an escape or for our markers: before two hex digits (so listescape's
 * reading is the original name and no unescaped name equals an escaped one), before `#` and `~`
 * (the shortening and variant markers). The empty component is `\00`, which no other produces
 * (a NUL is always inside a modified UTF-7 `&...-` run). Backups written before kept `\` as `\5c`
 * and the empty component as `\`: their folders keep the paths their manifest names.
 */
export function maildirPlusPlusName(components: readonly string[]): string {
  const parts = components.map((c) => {
    if (c === '') return '\\00';
    const utf7 = encodeMutf7(c);
    let out = '';
    for (let i = 0; i < utf7.length; i++) {
      const ch = utf7[i]!;
      const escaped = ch === '.' || ch === '/' || (ch === '~' && i === 0) || (ch === '\\' && ESCAPE_LOOKALIKE.test(utf7.slice(i + 1)));
      out += escaped ? `\\${ch.charCodeAt(0).toString(16)}` : ch;
    }
    return out;
  });
  // A token is one character or a three-character `\xx` escape.
  const tokens = ('.' + parts.join('.')).match(/\\[0-9a-f]{2}|[^]/g) ?? [];
  return shorten(tokens, '\\#');
}

/** What after a `\` would make it read as an escape or a marker. */
const ESCAPE_LOOKALIKE = /^([0-9a-f]{2}|[#~])/i;

/**
 * A Maildir folder's segments under the mail root. INBOX is the root itself in both layouts,
 * as Dovecot keeps it. `variant` > 0 tells apart folders whose paths would otherwise collide
 * (case-insensitive file systems, or a shortened name's hash).
 */
export function maildirFolderPath(components: readonly string[], layout: MaildirLayout, variant = 0): string[] {
  if (isInbox(components) && variant === 0) return [];
  if (layout === 'maildir++') return [maildirPlusPlusName(components) + variantSuffix('\\', variant)];
  const segments = components.map((c) => escapeComponent(c, MAILDIR_ENTRY));
  segments[segments.length - 1] += variantSuffix('%', variant);
  return segments;
}

/**
 * An mbox folder's segments: one `<name>.mbox` file per folder, its subfolders in a directory
 * `<name>/` beside it. A component that itself ends in `.mbox` has that dot escaped, so a
 * directory name can never equal a file name.
 */
export function mboxFolderPath(components: readonly string[], variant = 0): string[] {
  const named = isInbox(components) ? ['INBOX'] : components;
  const segments = named.map((c) => {
    const escaped = escapeComponent(c);
    return /\.mbox$/i.test(escaped) ? `${escaped.slice(0, -5)}%2E${escaped.slice(-4)}` : escaped;
  });
  segments[segments.length - 1] += `${variantSuffix('%', variant)}.mbox`;
  return segments;
}

/**
 * The absolute path of `segments` under `root`, after proving it stays inside (§3.4 step 3):
 * a refusal here means a bug upstream or a tampered manifest, never a write outside the backup.
 */
export function resolveInside(root: string, segments: readonly string[]): string {
  const base = path.resolve(root);
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\0') || Buffer.byteLength(s) > 255) {
      throw new FolderError(`unsafe path segment ${JSON.stringify(s)} under ${base}`, 'unsafe-path');
    }
  }
  const full = path.resolve(base, ...segments);
  if (full !== base && !full.startsWith(base + path.sep)) {
    throw new FolderError(`${full} is outside ${base}`, 'unsafe-path');
  }
  return full;
}

function variantSuffix(escape: '%' | '\\', variant: number): string {
  return variant > 0 ? `${escape}~${variant}` : '';
}

/**
 * Keeps a segment within NAME_MAX: over the limit, the first tokens up to 200 bytes, then the
 * marker and 12 hex digits of the full name's SHA-256. The marker never occurs in an escaped
 * name, so a shortened name cannot equal an unshortened one.
 */
function shorten(tokens: string[], marker: string): string {
  const full = tokens.join('');
  if (Buffer.byteLength(full) <= SEGMENT_LIMIT) return full;
  let kept = '';
  for (const t of tokens) {
    if (Buffer.byteLength(kept + t) > TRUNCATED_PREFIX) break;
    kept += t;
  }
  return kept + marker + createHash('sha256').update(full).digest('hex').slice(0, HASH_DIGITS);
}

function percent(bytes: Buffer): string {
  return [...bytes].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** The three bytes a surrogate code unit would have in UTF-8 if it were allowed (WTF-8). */
function wtf8(unit: number): Buffer {
  return Buffer.from([0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]);
}

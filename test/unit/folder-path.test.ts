import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  escapeComponent, isInbox, maildirFolderPath, maildirPlusPlusName, mboxFolderPath, resolveInside,
} from '../../src/stores/local/folder-path.js';
import { encodeMutf7 } from '../../src/stores/local/mutf7.js';
import { prng } from '../support/prng.js';

const ROOT = path.resolve('/backups/alice');

/** Random folder names built from the pieces that break naive path code (correctness.md §3.4). */
function hostileName(random: () => number): string {
  const pieces = [
    '.', '..', '/', '\\', '\\2e', '2e', '5c', '00', '#', '\0', '\n', '\t', '\x7f', '%', '%2E', '%~1', '%#', '~', ' ', ':', '*', '?', '"', '<', '>', '|', '&', '&-',
    'a', 'B', 'con', 'CUR', 'tmp', 'new', 'dovecot-uidlist', 'x.mbox', '.mbox', 'INBOX', 'é', 'é', '日本', '😀', '\ud800', '\udfff',
  ];
  if (random() < 0.05) return '';
  if (random() < 0.05) return 'long-'.repeat(20 + Math.floor(random() * 40));
  let name = '';
  const n = 1 + Math.floor(random() * 6);
  for (let i = 0; i < n; i++) name += pieces[Math.floor(random() * pieces.length)];
  return name;
}

function hostileFolder(random: () => number): string[] {
  return Array.from({ length: 1 + Math.floor(random() * 3) }, () => hostileName(random));
}

const key = (components: string[]): string => (isInbox(components) ? 'INBOX' : JSON.stringify(components));

const layouts = {
  'maildir++': (c: string[]) => maildirFolderPath(c, 'maildir++'),
  fs: (c: string[]) => maildirFolderPath(c, 'fs'),
  mbox: (c: string[]) => mboxFolderPath(c),
};

describe('folder paths are injective and stay inside the backup (property test, 20,000 random hostile names)', () => {
  for (const [layout, pathOf] of Object.entries(layouts)) {
    it(`${layout}: every segment is a plain file name, the path resolves under the root, and no two folders share it`, () => {
      const random = prng(layout.length * 7919);
      const owner = new Map<string, string>();
      const problems: string[] = [];
      for (let i = 0; i < 20_000; i++) {
        const components = hostileFolder(random);
        const segments = pathOf(components);
        const bad = segments.find((s) => /^\.{0,2}$/.test(s) || s.includes('/') || s.includes('\0') || Buffer.byteLength(s) > 255);
        if (bad !== undefined) problems.push(`${JSON.stringify(components)}: segment ${JSON.stringify(bad)}`);
        const full = resolveInside(ROOT, segments);
        if (full !== ROOT && !full.startsWith(ROOT + path.sep)) problems.push(`${JSON.stringify(components)}: outside at ${full}`);
        const joined = segments.join('/');
        const earlier = owner.get(joined);
        if (earlier !== undefined && earlier !== key(components)) problems.push(`${earlier} and ${key(components)} share ${joined}`);
        owner.set(joined, key(components));
      }
      expect(problems).toEqual([]);
    });
  }

  it('fs layout: no folder directory is named like a Maildir entry (cur, new, tmp, dovecot-*)', () => {
    const random = prng(42);
    for (let i = 0; i < 5000; i++) {
      for (const s of maildirFolderPath(hostileFolder(random), 'fs')) expect(s).not.toMatch(/^(cur|new|tmp|dovecot[.-].*|maildirfolder|subscriptions)$/i);
    }
  });

  it('mbox: folders are `.mbox` files and their parent directories never end in `.mbox`', () => {
    const random = prng(43);
    for (let i = 0; i < 5000; i++) {
      const segments = mboxFolderPath(hostileFolder(random));
      expect(segments[segments.length - 1]).toMatch(/\.mbox$/);
      for (const dir of segments.slice(0, -1)) expect(dir).not.toMatch(/\.mbox$/i);
    }
  });
});

describe('escapeComponent (fs and mbox layouts)', () => {
  it.each([
    ['..', '%2E%2E'],
    ['.', '%2E'],
    ['.hidden', '%2Ehidden'],
    ['back\\slash', 'back%5Cslash'],
    ['a/b', 'a%2Fb'],
    ['%', '%25'],
    ['*', '%2A'],
    ['&', '&'],
    ['con', '%63on'],
    ['COM1.txt', '%43OM1.txt'],
    ['trailing.', 'trailing%2E'],
    ['tab\there', 'tab%09here'],
    ['Économie', 'Économie'],
    ['', '%'],
  ])('%j becomes %j', (name, escaped) => {
    expect(escapeComponent(name)).toBe(escaped);
  });

  it('shortens a component over the limit to 200 bytes, a marker and 12 hex digits of its hash', () => {
    const long = 'é'.repeat(200);
    const short = escapeComponent(long);
    expect(Buffer.byteLength(short)).toBeLessThanOrEqual(214);
    expect(short).toMatch(/^(é)+%#[0-9a-f]{12}$/);
    expect(escapeComponent(long + 'x')).not.toBe(short);
  });
});

describe("Maildir++ names are Dovecot 2.3's (observed on Dovecot 2.3.19, with listescape for `.`, `/` and a leading `~`)", () => {
  it.each([
    [['Foo.Bar'], '.Foo\\2eBar'],
    [['Ünï'], '.&ANw-n&AO8-'],
    [['a', '.dot'], '.a.\\2edot'],
    [['a', 'b.c'], '.a.b\\2ec'],
    [['~tilde'], '.\\7etilde'],
    [['x~y'], '.x~y'],
    // Names a stock Dovecot (no listescape) accepts are stored as it stores them, so it serves them back.
    [['back\\slash'], '.back\\slash'],
    [['x\\'], '.x\\'],
    [['\\'], '.\\'],
    [['a\\b.c'], '.a\\b\\2ec'],
    // A backslash that would read as an escape or a marker is itself escaped.
    [['a\\2eb'], '.a\\5c2eb'],
    [['a\\2Eb'], '.a\\5c2Eb'],
    [['x\\~1'], '.x\\5c~1'],
    [['x\\#1'], '.x\\5c#1'],
    [['a', ''], '.a.\\00'],
    [['&Jjo-'], '.&-Jjo-'],
    [['pct%', 'a*b'], '.pct%.a*b'],
    [['Work', 'Projects', '2024'], '.Work.Projects.2024'],
  ])('%j is %s', (components, name) => {
    expect(maildirPlusPlusName(components)).toBe(name);
  });

  it('INBOX is the Maildir root in both layouts', () => {
    expect(maildirFolderPath(['INBOX'], 'maildir++')).toEqual([]);
    expect(maildirFolderPath(['Inbox'], 'fs')).toEqual([]);
    expect(maildirFolderPath(['INBOX', 'Sub'], 'maildir++')).toEqual(['.INBOX.Sub']);
  });
});

describe('modified UTF-7 (RFC 3501 §5.1.3)', () => {
  it.each([
    ['日本語', '&ZeVnLIqe-'],
    ['Ящик', '&BC8ESQQ4BDo-'],
    ['R&D', 'R&-D'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['plain ascii', 'plain ascii'],
  ])('%s is %s', (text, encoded) => {
    expect(encodeMutf7(text)).toBe(encoded);
  });
});

describe('resolveInside', () => {
  it('refuses any segment that could leave the root', () => {
    for (const bad of [['..'], ['.'], [''], ['a/../..'], ['x\0y']]) expect(() => resolveInside(ROOT, bad)).toThrow(/unsafe/);
  });
});

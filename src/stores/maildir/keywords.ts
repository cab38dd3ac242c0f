import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../local/safe-fs.js';

/**
 * IMAP keywords in Maildir file names, as Dovecot keeps them: the letters `a`..`z` after the
 * system flags, each standing for the keyword on line `<index> <keyword>` of the folder's
 * `dovecot-keywords` (index 0 is `a`). So at most 26 keywords per folder, Dovecot's own limit.
 */

export const KEYWORDS_FILE = 'dovecot-keywords';
export const MAX_KEYWORDS = 26;
const FIRST_LETTER = 'a'.charCodeAt(0);

export class Keywords {
  private constructor(
    private readonly file: string,
    private readonly names: string[],
  ) {}

  static async load(dir: string): Promise<Keywords> {
    const file = path.join(dir, KEYWORDS_FILE);
    const names: string[] = [];
    let text = '';
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      const m = /^(\d+) (.+)$/.exec(line);
      const index = m ? Number(m[1]) : -1;
      if (index >= 0 && index < MAX_KEYWORDS) names[index] = m![2]!;
    }
    return new Keywords(file, names);
  }

  get full(): boolean {
    return this.names.filter((n) => n !== undefined).length >= MAX_KEYWORDS;
  }

  known(): string[] {
    return this.names.filter((n) => n !== undefined);
  }

  letterOf(keyword: string): string | undefined {
    const i = this.names.indexOf(keyword);
    return i >= 0 ? String.fromCharCode(FIRST_LETTER + i) : undefined;
  }

  keywordOf(letter: string): string | undefined {
    return this.names[letter.charCodeAt(0) - FIRST_LETTER];
  }

  /**
   * Gives letters to `keywords` that have none, while letters last, and makes the file durable
   * before any file name uses them. Keywords beyond the 26th are not kept (as in Dovecot).
   */
  async add(keywords: Iterable<string>): Promise<void> {
    let changed = false;
    for (const k of keywords) {
      if (this.names.includes(k)) continue;
      let free = 0;
      while (free < MAX_KEYWORDS && this.names[free] !== undefined) free++;
      if (free === MAX_KEYWORDS) break;
      this.names[free] = k;
      changed = true;
    }
    if (!changed) return;
    const lines = this.names.map((n, i) => (n === undefined ? '' : `${i} ${n}\n`)).join('');
    await writeFileAtomic(this.file, lines);
  }
}

import { UsageError } from '../../errors/errors.js';

/** One piece of IMAP SEARCH criteria: an atom, a quoted string, or a parenthesised list. */
export type SearchToken = { type: 'atom'; value: string } | { type: 'string'; value: string } | { type: 'list'; items: SearchToken[] };

/**
 * Search keys (RFC 3501 section 6.4.4, plus MODSEQ of RFC 7162, OLDER/YOUNGER of RFC 5032) with
 * the arguments each takes: a string, a date, a number, a flag keyword, a header name and string,
 * a key (NOT), two keys (OR). X-GM-RAW is not here: only `--gmail-search` sends it.
 */
const KEYS: Record<string, Arg[]> = {
  ALL: [], ANSWERED: [], DELETED: [], DRAFT: [], FLAGGED: [], NEW: [], OLD: [], RECENT: [], SEEN: [],
  UNANSWERED: [], UNDELETED: [], UNDRAFT: [], UNFLAGGED: [], UNSEEN: [],
  BCC: ['string'], BODY: ['string'], CC: ['string'], FROM: ['string'], SUBJECT: ['string'], TEXT: ['string'], TO: ['string'],
  BEFORE: ['date'], ON: ['date'], SINCE: ['date'], SENTBEFORE: ['date'], SENTON: ['date'], SENTSINCE: ['date'],
  LARGER: ['number'], SMALLER: ['number'], OLDER: ['number'], YOUNGER: ['number'], MODSEQ: ['number'],
  KEYWORD: ['flag'], UNKEYWORD: ['flag'],
  HEADER: ['string', 'string'],
  UID: ['set'],
  NOT: ['key'],
  OR: ['key', 'key'],
};
type Arg = 'string' | 'date' | 'number' | 'flag' | 'set' | 'key';

const DATE = /^\d{1,2}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4}$/i;
const SEQUENCE_SET = /^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/;
/** Characters an atom may not hold (RFC 3501 atom-specials, less the wildcards a sequence set uses). */
const ATOM_SPECIALS = /[(){ %"\\\]\x00-\x1f\x7f]/;

/**
 * Parses `--search` criteria into tokens and checks them against the search keys, so a typo is a
 * usage error before anything starts rather than a server's BAD in the middle of a run.
 */
export function parseSearchCriteria(text: string, options: { gmail?: boolean } = {}): SearchToken[] {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new UsageError('--search: empty criteria; give IMAP SEARCH keys, e.g. FROM alice@example.com SINCE 1-Jan-2023');
  checkKeys(tokens, options.gmail === true);
  return tokens;
}

/**
 * The criteria a run sends: `--search` and `--gmail-search` (Gmail's own query language, as
 * X-GM-RAW "query") together, both to be met. Undefined when neither is given.
 */
export function runCriteria(search: string | undefined, gmailSearch: string | undefined): string | undefined {
  if (search !== undefined) parseSearchCriteria(search);
  if (gmailSearch !== undefined && gmailSearch.trim() === '') throw new UsageError('--gmail-search: empty query');
  const gmail = gmailSearch === undefined ? undefined : `X-GM-RAW "${gmailSearch.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  const parts = [search, gmail].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/** Whether the criteria hold anything beyond ASCII, which needs CHARSET UTF-8. */
export function needsUtf8(tokens: SearchToken[]): boolean {
  return tokens.some((t) => (t.type === 'list' ? needsUtf8(t.items) : /[^\x00-\x7f]/.test(t.value)));
}

function tokenize(text: string): SearchToken[] {
  const stack: SearchToken[][] = [[]];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(') {
      stack.push([]);
      i++;
    } else if (c === ')') {
      if (stack.length === 1) throw syntax(`unmatched ")" at position ${i + 1}`);
      const items = stack.pop()!;
      if (items.length === 0) throw syntax(`empty parentheses at position ${i + 1}`);
      stack[stack.length - 1]!.push({ type: 'list', items });
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw syntax('unterminated quoted string');
        const d = text[i++]!;
        if (d === '"') break;
        if (d === '\\') {
          if (i >= text.length) throw syntax('unterminated quoted string');
          value += text[i++];
        } else value += d;
      }
      stack[stack.length - 1]!.push({ type: 'string', value });
    } else {
      let end = i;
      while (end < text.length && !/[ \t()"]/.test(text[end]!)) end++;
      const value = text.slice(i, end);
      if (/[\r\n\x00]/.test(value)) throw syntax('line breaks and NUL are not allowed');
      stack[stack.length - 1]!.push({ type: 'atom', value });
      i = end;
    }
  }
  if (stack.length > 1) throw syntax('unmatched "("');
  return stack[0]!;
}

function checkKeys(tokens: SearchToken[], gmail: boolean): void {
  let i = 0;
  const key = (): void => {
    const t = tokens[i++];
    if (!t) throw syntax('a key is missing at the end (NOT and OR take keys after them)');
    if (t.type === 'list') return checkKeys(t.items, gmail);
    if (t.type === 'string') throw syntax(`"${t.value}" is a string where a search key was expected`);
    if (SEQUENCE_SET.test(t.value)) return;
    const name = t.value.toUpperCase();
    if (name === 'X-GM-RAW' && !gmail) throw syntax('X-GM-RAW is for --gmail-search');
    const args = name === 'X-GM-RAW' ? ['string' as const] : KEYS[name];
    if (!args) throw syntax(`unknown search key ${t.value}`);
    for (const arg of args) {
      if (arg === 'key') {
        key();
        continue;
      }
      const a = tokens[i++];
      if (!a || a.type === 'list') throw syntax(`${name} needs ${ARG_NAMES[arg]}`);
      if (!fits(arg, a.value, a.type)) throw syntax(`${name} needs ${ARG_NAMES[arg]}, got ${JSON.stringify(a.value)}`);
    }
  };
  while (i < tokens.length) key();
}

function fits(arg: Exclude<Arg, 'key'>, value: string, type: 'atom' | 'string'): boolean {
  switch (arg) {
    case 'string':
      return true;
    case 'date':
      return DATE.test(value);
    case 'number':
      return /^\d+$/.test(value);
    case 'set':
      return SEQUENCE_SET.test(value);
    case 'flag':
      return type === 'atom' && !ATOM_SPECIALS.test(value.replace(/^\\/, ''));
  }
}

const ARG_NAMES: Record<Arg, string> = {
  string: 'a string',
  date: 'a date like 1-Jan-2023',
  number: 'a number',
  flag: 'a keyword',
  set: 'a UID set like 1:100',
  key: 'a search key',
};

function syntax(what: string): UsageError {
  return new UsageError(`--search: ${what}`);
}

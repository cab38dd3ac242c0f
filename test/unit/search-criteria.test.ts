import { describe, expect, it } from 'vitest';
import { needsUtf8, parseSearchCriteria, runCriteria } from '../../src/stores/imap/search-criteria.js';
import { liftable, stillSkipped } from '../../src/engine/skipped-rows.js';
import { SEARCH_CHANGING, type MessageRow } from '../../src/engine/checkpoint.js';
import { UsageError } from '../../src/errors/errors.js';

describe('--search criteria are parsed and checked before anything starts', () => {
  it('reads atoms, quoted strings with escapes, and nested parenthesised lists', () => {
    expect(parseSearchCriteria('OR (FROM alice SINCE 1-Jan-2023) SUBJECT "a \\"b\\" c" NOT DELETED UID 1:5,9:*')).toEqual([
      { type: 'atom', value: 'OR' },
      { type: 'list', items: [{ type: 'atom', value: 'FROM' }, { type: 'atom', value: 'alice' }, { type: 'atom', value: 'SINCE' }, { type: 'atom', value: '1-Jan-2023' }] },
      { type: 'atom', value: 'SUBJECT' },
      { type: 'string', value: 'a "b" c' },
      { type: 'atom', value: 'NOT' },
      { type: 'atom', value: 'DELETED' },
      { type: 'atom', value: 'UID' },
      { type: 'atom', value: '1:5,9:*' },
    ]);
  });

  it('takes the RFC 3501 keys and the common extensions, in any case', () => {
    for (const ok of ['ALL', 'unseen', 'HEADER X-Spam yes', 'KEYWORD $Label1', 'LARGER 10 SMALLER 20', 'MODSEQ 5', 'OLDER 3600', 'SENTSINCE 01-Feb-2020', '1:*', 'OR OR SEEN FLAGGED DRAFT']) {
      expect(() => parseSearchCriteria(ok), ok).not.toThrow();
    }
  });

  it.each([
    ['', /empty criteria/],
    ['FROMM alice', /unknown search key FROMM/],
    ['FROM', /FROM needs a string/],
    ['SINCE yesterday', /SINCE needs a date like 1-Jan-2023, got "yesterday"/],
    ['LARGER big', /LARGER needs a number/],
    ['NOT', /a key is missing/],
    ['OR SEEN', /a key is missing/],
    ['(SEEN', /unmatched "\("/],
    ['SEEN)', /unmatched "\)"/],
    ['()', /empty parentheses/],
    ['SUBJECT "open', /unterminated quoted string/],
    ['"SEEN"', /"SEEN" is a string where a search key was expected/],
    ['X-GM-RAW "from:alice"', /X-GM-RAW is for --gmail-search/],
  ])('%j is a usage error naming the fault', (criteria, message) => {
    expect(() => parseSearchCriteria(criteria)).toThrow(UsageError);
    expect(() => parseSearchCriteria(criteria)).toThrow(message);
  });

  it('knows when the criteria need CHARSET UTF-8', () => {
    expect(needsUtf8(parseSearchCriteria('SUBJECT café'))).toBe(true);
    expect(needsUtf8(parseSearchCriteria('OR (SUBJECT "東京") SEEN'))).toBe(true);
    expect(needsUtf8(parseSearchCriteria('SUBJECT cafe'))).toBe(false);
  });

  it('joins --search and --gmail-search, the Gmail query quoted as X-GM-RAW', () => {
    expect(runCriteria(undefined, undefined)).toBeUndefined();
    expect(runCriteria('SEEN', undefined)).toBe('SEEN');
    expect(runCriteria('SEEN', 'from:"a b"')).toBe('SEEN X-GM-RAW "from:\\"a b\\""');
    expect(parseSearchCriteria(runCriteria(undefined, 'from:"a b"')!, { gmail: true })).toEqual([{ type: 'atom', value: 'X-GM-RAW' }, { type: 'string', value: 'from:"a b"' }]);
    expect(() => runCriteria('FROMM x', undefined)).toThrow(/unknown search key/);
    expect(() => runCriteria(undefined, ' ')).toThrow(/--gmail-search: empty query/);
  });
});

describe('messages left out by a search', () => {
  const row: MessageRow = { srcUid: 4, size: 100, internalDate: Date.UTC(2024, 0, 1), flags: [], state: 'skipped', reason: 'not-matching-search' };

  it('stay left out while the criteria are the ones they were judged by', () => {
    expect(liftable(row, { search: 'FROM alice' }, 'FROM alice')).toBe(false);
    expect(stillSkipped([row], { search: 'FROM alice' }, 'FROM alice')).toEqual({ 'not-matching-search': 1 });
  });

  it('are looked at again when the criteria change, are dropped, or a pass with other criteria was cut short', () => {
    expect(liftable(row, { search: 'FROM bob' }, 'FROM alice')).toBe(true);
    expect(liftable(row, {}, 'FROM alice')).toBe(true);
    expect(liftable(row, { search: 'FROM alice' }, SEARCH_CHANGING)).toBe(true);
    expect(stillSkipped([row], { search: 'FROM bob' }, 'FROM alice')).toEqual({});
  });
});

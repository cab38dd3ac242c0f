import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { fitToWidth, padToWidth } from '../../src/reporting/display-width.js';
import { counted } from '../../src/reporting/plural.js';
import { label } from '../../src/reporting/reporter.js';

describe('the progress bars name column', () => {
  it.each(['INBOX', '日本語のフォルダ', '📨 Mail bag', 'プロジェクト/二〇二四年/会議録/議事録の控え', 'Work/Projects/a-very-long-folder-name', 'Café/Ünïcödé', '👩‍👩‍👧‍👦 family/😀😀😀😀😀😀😀😀😀😀😀😀'])(
    'is 24 cells wide for %s',
    (name) => {
      expect(stringWidth(label(name))).toBe(24);
    },
  );

  it('keeps the end of a long name after an ellipsis, and never splits a character', () => {
    expect(label('プロジェクト/二〇二四年/会議録/議事録の控え')).toBe('…年/会議録/議事録の控え ');
    expect(label('👩‍👩‍👧‍👦 family/😀😀😀😀😀😀😀😀😀😀😀😀')).toBe('…😀😀😀😀😀😀😀😀😀😀😀 ');
    expect(fitToWidth(`${'x'.repeat(30)}👩‍👩‍👧‍👦`, 5)).toBe('…xx👩‍👩‍👧‍👦');
  });
});

describe('padding to a display width', () => {
  it('counts a wide character as two cells and a combining accent as none', () => {
    expect(padToWidth('会議', 6)).toBe('会議  ');
    expect(padToWidth('e\u0301t\u00e9', 4)).toBe('e\u0301t\u00e9 ');
    expect(padToWidth('too long', 3)).toBe('too long');
    expect(fitToWidth('short', 8)).toBe('short   ');
  });
});

describe('counted', () => {
  it('puts the noun in the number the count needs', () => {
    expect(counted(1, 'folder')).toBe('1 folder');
    expect(counted(0, 'folder')).toBe('0 folders');
    expect(counted(2, 'flag update')).toBe('2 flag updates');
    expect(counted(1, 'flag difference', 'flag differences')).toBe('1 flag difference');
  });
});

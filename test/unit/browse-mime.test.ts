import { describe, expect, it } from 'vitest';
import { decodeCharset, decodeTransfer, decodeWords } from '../../src/jobs/browse/mime-decode.js';
import { parseMime, parseParams } from '../../src/jobs/browse/mime-parse.js';
import { safeFileName } from '../../src/jobs/browse/exporting.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

describe('parseMime numbers leaves as IMAP BODYSTRUCTURE does', () => {
  it('a single-part message is part 1', () => {
    const [leaf, ...rest] = parseMime(crlf(['Subject: x', 'Content-Type: text/plain; charset="iso-8859-1"', 'Content-Transfer-Encoding: Quoted-Printable', '', 'caf=E9', '']));
    expect(rest).toEqual([]);
    expect(leaf).toMatchObject({ part: '1', type: 'text/plain', charset: 'iso-8859-1', encoding: 'quoted-printable' });
    expect(decodeCharset(decodeTransfer(leaf!.body, leaf!.encoding), leaf!.charset)).toBe('café\r\n');
  });

  it('a nested multipart gives 1, 2.1, 2.2, 3; the preamble, epilogue and the line break before each delimiter are no part of any body', () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      'preamble',
      '--outer',
      'Content-Type: text/plain',
      '',
      'hello',
      '--outer',
      'Content-Type: multipart/alternative; boundary="in ner"',
      '',
      '--in ner',
      'Content-Type: text/plain',
      '',
      'alt text',
      '--in ner',
      'Content-Type: text/html',
      '',
      '<p>alt</p>',
      '--in ner--',
      '--outer',
      'Content-Type: application/pdf; name="=?UTF-8?B?w6l0w6kucGRm?="',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0=',
      '--outer--',
      'epilogue',
    ]);
    const leaves = parseMime(raw);
    expect(leaves.map((l) => [l.part, l.type, l.body.toString()])).toEqual([
      ['1', 'text/plain', 'hello'],
      ['2.1', 'text/plain', 'alt text'],
      ['2.2', 'text/html', '<p>alt</p>'],
      ['3', 'application/pdf', 'JVBERi0='],
    ]);
    expect(leaves[3]!.name).toBe('été.pdf');
    expect(decodeTransfer(leaves[3]!.body, leaves[3]!.encoding).toString()).toBe('%PDF-');
  });

  it('a multipart whose boundary never appears is one opaque leaf, not an error', () => {
    const leaves = parseMime(crlf(['Content-Type: multipart/mixed; boundary=gone', '', 'no parts here', '']));
    expect(leaves).toHaveLength(1);
    expect(leaves[0]).toMatchObject({ part: '1', type: 'multipart/mixed' });
  });
});

describe('header decoding', () => {
  it('RFC 2047 words, adjacent ones joined; RFC 2231 parameters; quoted parameters with ; inside', () => {
    expect(decodeWords('=?UTF-8?Q?Chlo=C3=A9?= =?UTF-8?B?IER1Ym9pcw==?= <c@example.fr>')).toBe('Chloé Dubois <c@example.fr>');
    expect(decodeWords('=?iso-8859-1?q?caf=E9_au_lait?=')).toBe('café au lait');
    expect(parseParams("attachment; filename*=utf-8''%C3%A9t%C3%A9.txt").params.get('filename')).toBe('été.txt');
    expect(parseParams('text/plain; name="a;b.txt"; charset=UTF-8')).toEqual({ value: 'text/plain', params: new Map([['name', 'a;b.txt'], ['charset', 'UTF-8']]) });
  });

  it('an unknown charset is read as UTF-8', () => {
    expect(decodeCharset(Buffer.from('ok'), 'x-no-such-charset')).toBe('ok');
  });
});

describe('safeFileName keeps an attachment name inside the export directory', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Windows\\evil.exe', 'evil.exe'],
    ['..', 'fallback'],
    ['.hidden', 'hidden'],
    ['a\u0000b\u0007c\u001b.txt', 'abc.txt'],
    ['x..y', 'x.y'],
    ['', 'fallback'],
    ['rapport été.pdf', 'rapport été.pdf'],
  ])('%j -> %j', (name, expected) => {
    expect(safeFileName(name, 'fallback')).toBe(expected);
  });
});

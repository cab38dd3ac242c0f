import { describe, expect, it } from 'vitest';
import { canonicalForm, headerOf } from '../../src/engine/server-alteration.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const same = (x: Buffer, y: Buffer) => expect(canonicalForm(x).toString('latin1')).toBe(canonicalForm(y).toString('latin1'));

describe('canonicalForm: a message and the copy a server altered on APPEND have the same one', () => {
  it('Dovecot: NUL stored as 0x80', () => same(b('Subject: x\r\n\r\na\0b\r\n'), b('Subject: x\r\n\r\na\x80b\r\n')));
  it('Dovecot: bare LF stored as CRLF', () => same(b('Subject: x\n\nline 1\nline 2\n'), b('Subject: x\r\n\r\nline 1\r\nline 2\r\n')));
  it('Cyrus munge8bit: each 8-bit header byte stored as X, the body untouched', () =>
    same(b('Subject: caf\xc3\xa9\r\n\r\ncaf\xc3\xa9\r\n'), b('Subject: cafXX\r\n\r\ncaf\xc3\xa9\r\n')));
  it('Courier: CRLF added to a message without a final newline', () => same(b('Subject: x\r\n\r\nno newline'), b('Subject: x\r\n\r\nno newline\r\n')));
  it('is the very buffer for a message no server changes, so nothing is copied or hashed again', () => {
    const raw = b('Subject: x\r\n\r\nplain \xe9 body\r\n');
    expect(canonicalForm(raw)).toBe(raw);
  });
  it('keeps apart messages that differ otherwise', () => {
    expect(canonicalForm(b('Subject: x\r\n\r\na\0b\r\n')).equals(canonicalForm(b('Subject: x\r\n\r\nacb\r\n')))).toBe(false);
  });
});

describe('headerOf: what a header-only FETCH (BODY.PEEK[HEADER]) of the message returns', () => {
  it('ends with the blank line, CRLF or bare LF', () => {
    expect(headerOf(b('Subject: x\r\n\r\nbody\r\n')).toString('latin1')).toBe('Subject: x\r\n\r\n');
    expect(headerOf(b('Subject: x\n\nbody\n')).toString('latin1')).toBe('Subject: x\n\n');
  });
  it('ends with the first blank line, whichever kind comes first', () => {
    expect(headerOf(b('A: 1\n\nB: 2\r\n\r\nbody')).toString('latin1')).toBe('A: 1\n\n');
    expect(headerOf(b('A: 1\r\n\r\nbody\n\nmore')).toString('latin1')).toBe('A: 1\r\n\r\n');
  });
  it('is the whole message when no blank line ends it', () => expect(headerOf(b('Subject: x\r\n')).toString('latin1')).toBe('Subject: x\r\n'));
});

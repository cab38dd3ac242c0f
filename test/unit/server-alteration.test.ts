import { describe, expect, it } from 'vitest';
import { canonicalForm, mayChangeInPlace } from '../../src/engine/server-alteration.js';

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

describe('mayChangeInPlace: whether a same-size stored copy still needs its bytes compared', () => {
  it('NUL anywhere, or an 8-bit byte in the header', () => {
    expect(mayChangeInPlace(b('Subject: x\r\n\r\na\0b\r\n'))).toBe(true);
    expect(mayChangeInPlace(b('Subject: \xe9\r\n\r\nab\r\n'))).toBe(true);
  });
  it('not for 8-bit bytes in the body only, nor plain ASCII', () => {
    expect(mayChangeInPlace(b('Subject: x\r\n\r\n\xe9\r\n'))).toBe(false);
    expect(mayChangeInPlace(b('Subject: x\r\n\r\nab\r\n'))).toBe(false);
  });
});

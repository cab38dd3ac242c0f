import { describe, expect, it } from 'vitest';
import { kindOf, StoredCopyTrust } from '../../src/engine/stored-copy-trust.js';

const msg = (text: string) => Buffer.from(text, 'utf8');

describe('the kinds of message a server is trusted with (kindOf)', () => {
  it('tells plain messages, 8-bit headers, and what a known server rewrites', () => {
    expect(kindOf(msg('Subject: a\r\n\r\nbody\r\n'))).toBe('plain');
    expect(kindOf(msg('Subject: caf\u00e9\r\n\r\nbody\r\n'))).toBe('eight-bit-header');
    expect(kindOf(msg('Subject: a\r\n\r\ncaf\u00e9 in the body is plain\r\n'))).toBe('plain');
    expect(kindOf(msg('Subject: a\r\n\r\na NUL \0\r\n')), 'a NUL (Dovecot: 0x80)').toBe('other');
    expect(kindOf(msg('Subject: a\n\nbody\n')), 'bare LF (Dovecot: CRLF)').toBe('other');
    expect(kindOf(msg('Subject: a\r\n\r\na bare \r CR\r\n')), 'a CR alone').toBe('other');
    expect(kindOf(msg('Subject: a\r\n\r\nbody')), 'no last CRLF (Courier adds one)').toBe('other');
    expect(kindOf(msg('\n'))).toBe('other');
  });
});

describe('what a run has seen its destination store (StoredCopyTrust)', () => {
  it('reads a kind back until 100 of it came back as sent, and for the rest of the run once one came back altered', () => {
    const trust = new StoredCopyTrust();
    for (let i = 0; i < 99; i++) trust.looked('plain', true);
    expect(trust.mustLook('plain')).toBe(true);
    trust.looked('plain', true);
    expect(trust.mustLook('plain'), '100 plain messages stored as sent').toBe(false);
    expect(trust.mustLook('eight-bit-header'), 'a kind is trusted on its own evidence').toBe(true);
    trust.looked('plain', false);
    expect(trust.mustLook('plain'), 'one plain message came back altered').toBe(true);
    for (let i = 0; i < 500; i++) trust.looked('other', true);
    expect(trust.mustLook('other'), 'what a known server rewrites is always read back').toBe(true);
  });

  it('never trusts a kind the server altered, however many came back as sent', () => {
    const trust = new StoredCopyTrust();
    trust.looked('eight-bit-header', false);
    for (let i = 0; i < 1000; i++) trust.looked('eight-bit-header', true);
    expect(trust.mustLook('eight-bit-header')).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { asctime, fromLine, headerEnd, quoteParts, unquote } from '../../src/stores/mbox/mboxrd.js';
import { splitMbox } from '../support/mbox-reader.js';
import { prng } from '../support/prng.js';

const quote = (message: Buffer): Buffer => Buffer.concat(quoteParts(message));

describe('mboxrd quoting (correctness.md §4.1)', () => {
  it('adds one > to every line matching ^>*From and nothing else', () => {
    const text = 'From x\n>From y\n>>From z\nFrom\nFromage\n a From b\nFrom ';
    expect(quote(Buffer.from(text)).toString()).toBe('>From x\n>>From y\n>>>From z\nFrom\nFromage\n a From b\n>From ');
  });

  it('round-trips random messages full of From lines byte for byte (property test)', () => {
    const random = prng(4_2009);
    const lines = ['From a@b Thu Jan  1 00:00:00 2009', '>From x', '>>>From y', 'From', '>From', '', 'text', ' From', 'From\r', '>\r', '\x00'];
    for (let i = 0; i < 2000; i++) {
      const eol = random() < 0.5 ? '\r\n' : '\n';
      const body = Array.from({ length: Math.floor(random() * 12) }, () => lines[Math.floor(random() * lines.length)]).join(eol);
      const message = Buffer.from(random() < 0.5 ? body + eol : body);
      expect(unquote(quote(message)).equals(message)).toBe(true);
    }
  });

  it('quoting the header section and the body apart is quoting the whole message (property test)', () => {
    const random = prng(7_2009);
    const lines = ['From a@b', '>From x', 'Subject: s', '', 'text', ' From', 'From\r', '\r'];
    for (let i = 0; i < 2000; i++) {
      const eol = random() < 0.5 ? '\r\n' : '\n';
      const message = Buffer.from(Array.from({ length: Math.floor(random() * 10) }, () => lines[Math.floor(random() * lines.length)]).join(eol) + eol);
      const at = headerEnd(message);
      const halves = Buffer.concat([...quoteParts(message.subarray(0, at)), ...quoteParts(message.subarray(at))]);
      expect(halves.equals(quote(message))).toBe(true);
      expect(headerEnd(quote(message))).toBe(Buffer.concat(quoteParts(message.subarray(0, at))).length);
    }
  });

  it('quoted messages concatenated into a file split back into the same messages', () => {
    const messages = ['Subject: a\n\nFrom me\n', 'Subject: b\n\n>From you\n', 'From: c\n\nbody\n'].map((m) => Buffer.from(m));
    const date = new Date('2009-01-01T00:00:00Z');
    const file = Buffer.concat(messages.flatMap((m) => [fromLine(m, date), quote(m), Buffer.from('\n')]));
    const parsed = splitMbox(file);
    expect(parsed.map((p) => unquote(p.content).toString())).toEqual(messages.map((m) => m.toString()));
    expect(parsed.every((p) => p.fromLine === 'From MAILER-DAEMON Thu Jan  1 00:00:00 2009')).toBe(true);
  });
});

describe('the From_ line', () => {
  it('carries the Return-Path sender and INTERNALDATE in UTC asctime with a space-padded day', () => {
    const message = Buffer.from('Return-Path: <alice@example.org>\r\nSubject: x\r\n\r\nbody\r\n');
    expect(fromLine(message, new Date('2024-03-05T06:07:08Z')).toString()).toBe('From alice@example.org Tue Mar  5 06:07:08 2024\n');
    expect(asctime(new Date('2009-01-01T00:00:00Z'))).toBe('Thu Jan  1 00:00:00 2009');
  });

  it('falls back to MAILER-DAEMON for a missing, empty or spaced sender', () => {
    for (const header of ['', 'Return-Path: <>\r\n', 'Return-Path: \r\n']) {
      expect(fromLine(Buffer.from(`${header}Subject: x\r\n\r\n`), new Date(0)).toString()).toMatch(/^From MAILER-DAEMON /);
    }
  });
});

describe('headerEnd', () => {
  it('finds the blank line that ends the headers, with CRLF or LF, or the end of a body-less message', () => {
    expect(headerEnd(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody'))).toBe(12);
    expect(headerEnd(Buffer.from('A: 1\n\nbody'))).toBe(5);
    expect(headerEnd(Buffer.from('\r\nbody'))).toBe(0);
    expect(headerEnd(Buffer.from('A: 1\r\n'))).toBe(6);
  });
});

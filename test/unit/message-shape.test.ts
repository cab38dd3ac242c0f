import { describe, expect, it } from 'vitest';
import { MessageShape } from '../../src/engine/message-shape.js';
import { kindOf } from '../../src/engine/stored-copy-trust.js';
import { headerOf } from '../../src/engine/server-alteration.js';

const msg = (s: string): Buffer => Buffer.from(s, 'utf8');

/** The shape of `raw` read in pieces cut at every one of `cuts`. */
function inPieces(raw: Buffer, cuts: number[]): MessageShape {
  const shape = new MessageShape();
  let at = 0;
  for (const cut of [...cuts, raw.length]) {
    shape.update(raw.subarray(at, cut));
    at = cut;
  }
  return shape;
}

describe('the shape of a message read in pieces (a streamed message, never held whole)', () => {
  const messages = [
    msg('Subject: a\r\n\r\nbody\r\n'),
    msg('Subject: caf\u00e9\r\n\r\nbody\r\n'),
    msg('Subject: a\r\n\r\na NUL \0\r\n'),
    msg('Subject: a\r\n\r\na bare\nLF\r\n'),
    msg('Subject: a\r\n\r\na bare\rCR\r\n'),
    msg('Subject: a\r\n\r\nno final CRLF'),
    msg('Subject: a\nX: b\n\nbare LF header\n'),
    msg('Subject: only a header\r\n'),
  ];

  it('is the same however the message is cut: kind, size, NUL and header, across a CRLF and the blank line too', () => {
    for (const raw of messages) {
      const whole = new MessageShape().update(raw);
      for (let a = 1; a < raw.length; a++) {
        for (const cuts of [[a], [a, Math.min(raw.length, a + 1)], [1, a]]) {
          const cut = inPieces(raw, cuts.sort((x, y) => x - y));
          expect({ kind: cut.kind, size: cut.size, nul: cut.nul, header: cut.header?.toString('latin1') }, `${JSON.stringify(raw.toString())} cut at ${cuts}`).toEqual({
            kind: whole.kind,
            size: raw.length,
            nul: raw.includes(0),
            header: headerOf(raw).toString('latin1'),
          });
        }
      }
    }
  });

  it('gives what kindOf gives for the message whole', () => {
    expect(messages.map((raw) => new MessageShape().update(raw).kind)).toEqual(['plain', 'eight-bit-header', 'other', 'other', 'other', 'other', 'other', 'plain']);
    for (const raw of messages) expect(kindOf(raw)).toBe(new MessageShape().update(raw).kind);
  });

  it('keeps no header longer than 1 MB: such a message is of kind other, always looked at after its APPEND', () => {
    const shape = new MessageShape().update(msg(`X-Long: ${'a'.repeat(600_000)}\r\n`)).update(msg(`X-More: ${'b'.repeat(600_000)}\r\n\r\nbody\r\n`));
    expect(shape.header).toBeUndefined();
    expect(shape.kind).toBe('other');
  });
});

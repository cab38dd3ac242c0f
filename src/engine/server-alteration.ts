import { isAscii } from 'node:buffer';

/**
 * What IMAP servers are known to do to a message on APPEND, seen on the servers themselves:
 * Dovecot 2.3 turns NUL into 0x80 and bare LF into CRLF; Cyrus with its default `munge8bit: yes`
 * turns each 8-bit byte in the header into 'X'; Courier adds CRLF to a message without a final
 * newline. The canonical form applies all of them, so a message and the copy such a server made
 * of it have the same canonical form: that is how a copy is recognised without the checkpoint
 * that recorded it.
 */
export function canonicalForm(raw: Buffer): Buffer {
  let out = withCrlf(raw);
  if (out.includes(0)) {
    if (out === raw) out = Buffer.from(raw);
    for (let i = out.indexOf(0); i >= 0; i = out.indexOf(0, i + 1)) out[i] = 0x80;
  }
  const headerEnd = headerOf(out).length;
  if (!isAscii(out.subarray(0, headerEnd))) {
    if (out === raw) out = Buffer.from(raw);
    for (let i = 0; i < headerEnd; i++) if (out[i]! >= 0x80) out[i] = 0x58; // 'X'
  }
  if (!endsWithCrlf(out)) out = Buffer.concat([out, CRLF]);
  return out;
}

/** The header: the bytes up to and including the blank line after it; the whole message without one. */
export function headerOf(raw: Buffer): Buffer {
  const crlf = raw.indexOf('\r\n\r\n');
  // Only a bare-LF blank line before that one matters: not searched through the body (a whole
  // 8 MB batch per APPEND in stored-copy.ts).
  const lf = (crlf >= 0 ? raw.subarray(0, crlf + 4) : raw).indexOf('\n\n');
  const ends = [crlf >= 0 ? crlf + 4 : -1, lf >= 0 ? lf + 2 : -1].filter((n) => n >= 0);
  return raw.subarray(0, ends.length > 0 ? Math.min(...ends) : raw.length);
}

const CRLF = Buffer.from('\r\n');

/** Bare LF becomes CRLF; the same buffer when there is none. */
function withCrlf(raw: Buffer): Buffer {
  let bare = 0;
  for (let i = raw.indexOf(10); i >= 0; i = raw.indexOf(10, i + 1)) if (i === 0 || raw[i - 1] !== 13) bare++;
  if (bare === 0) return raw;
  const out = Buffer.allocUnsafe(raw.length + bare);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 10 && (i === 0 || raw[i - 1] !== 13)) out[o++] = 13;
    out[o++] = raw[i]!;
  }
  return out;
}

function endsWithCrlf(raw: Buffer): boolean {
  return raw.length >= 2 && raw[raw.length - 2] === 13 && raw[raw.length - 1] === 10;
}

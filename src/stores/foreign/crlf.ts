const LF = 0x0a;
const CR = 0x0d;

/**
 * Every bare LF as CRLF, the line ending IMAP requires (RFC 3501 §4.3 via RFC 5322). Files other
 * programs wrote mostly use LF; Dovecot, Gmail and others store an APPENDed bare LF as CRLF
 * anyway. Sending CRLF ourselves means the server keeps exactly the bytes mailferry hashed, which
 * is what lets a resumed restore recognise a message it already stored. A lone CR is left alone.
 */
export function toCrlf(message: Buffer): Buffer {
  let bare = 0;
  for (let i = message.indexOf(LF); i >= 0; i = message.indexOf(LF, i + 1)) if (message[i - 1] !== CR) bare++;
  if (bare === 0) return message;
  const out = Buffer.allocUnsafe(message.length + bare);
  let at = 0;
  let copied = 0;
  for (let i = message.indexOf(LF); i >= 0; i = message.indexOf(LF, i + 1)) {
    if (message[i - 1] === CR) continue;
    at += message.copy(out, at, copied, i);
    out[at++] = CR;
    copied = i;
  }
  message.copy(out, at, copied);
  return out;
}

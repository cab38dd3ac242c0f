/**
 * mboxrd (correctness.md §4.1), the only mbox variant whose round trip is byte-exact: on write,
 * every line matching `^>*From ` gets one more `>`; on read, every line matching `^>+From ` loses
 * one. A message starts with a `From <sender> <asctime>` line and ends with a blank line. Line
 * endings are kept as fetched (CRLF from IMAP); lines are split on LF.
 */

const GT = 0x3e;
const LF = 0x0a;
const CR = 0x0d;
const FROM_ = Buffer.from('From ');

/**
 * Quotes `From ` lines: the message can no longer be split inside. Returned as pieces of the
 * message with the added `>` between them, never copied (a 20 MB message would be held twice).
 */
export function quoteParts(message: Buffer): Buffer[] {
  return requote(message, 1);
}

/** Undoes quoting. */
export function unquote(content: Buffer): Buffer {
  const parts = requote(content, -1);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

const GT_BYTE = Buffer.from('>');

function requote(buf: Buffer, direction: 1 | -1): Buffer[] {
  const parts: Buffer[] = [];
  let copied = 0;
  for (let line = 0; line < buf.length; ) {
    let i = line;
    while (buf[i] === GT) i++;
    if (startsWithFrom(buf, i) && (direction === 1 || i > line)) {
      parts.push(buf.subarray(copied, line));
      if (direction === 1) {
        parts.push(GT_BYTE);
        copied = line;
      } else {
        copied = line + 1;
      }
    }
    const next = buf.indexOf(LF, line);
    line = next < 0 ? buf.length : next + 1;
  }
  if (parts.length === 0) return [buf];
  parts.push(buf.subarray(copied));
  return parts;
}

function startsWithFrom(buf: Buffer, at: number): boolean {
  return at + FROM_.length <= buf.length && buf.compare(FROM_, 0, FROM_.length, at, at + FROM_.length) === 0;
}

/**
 * The `From_` line: the envelope sender (Return-Path, which is what the MTA saw) or MAILER-DAEMON,
 * and the date in asctime form in UTC with a space-padded day, exactly as mutt expects it.
 */
export function fromLine(message: Buffer, date: Date): Buffer {
  return Buffer.from(`From ${envelopeSender(message)} ${asctime(date)}\n`);
}

export function asctime(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${days[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} ${date.getUTCFullYear()}`;
}

function envelopeSender(message: Buffer): string {
  const head = message.subarray(0, headerEnd(message)).toString('latin1');
  const m = /^Return-Path:[ \t]*<?([^\s<>]*)>?/im.exec(head);
  // A sender must be one word without control characters, or the line no longer parses.
  const sender = m?.[1]?.replace(/[^\x21-\x7e]/g, '');
  return sender ? sender : 'MAILER-DAEMON';
}

/**
 * Offset of the blank line that ends the header section: where mutt and Dovecot expect
 * Status/X-Status/X-Keywords. The whole message when there is no body, 0 when there are no headers.
 */
export function headerEnd(message: Buffer): number {
  if (message[0] === LF || (message[0] === CR && message[1] === LF)) return 0;
  for (let i = message.indexOf(LF); i >= 0; i = message.indexOf(LF, i + 1)) {
    if (message[i + 1] === LF || (message[i + 1] === CR && message[i + 2] === LF)) return i + 1;
  }
  return message.length;
}

/** The line ending a header block uses, so added headers look like their neighbours. */
export function lineEndingAt(message: Buffer, at: number): '\r\n' | '\n' {
  if (at >= 2) return message[at - 2] === CR ? '\r\n' : '\n';
  return message.includes('\r\n') ? '\r\n' : '\n';
}

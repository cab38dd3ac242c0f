import { headerEnd, unquote } from '../mbox/mboxrd.js';
import { toCrlf } from './crlf.js';
import { flagsFromHeaders, STATE_FIELDS } from './mbox-flags.js';

export interface ForeignMboxMessage {
  /** The bytes restored: see `readMboxMessage`. */
  raw: Buffer;
  flags: string[];
  /** UW-IMAP's "DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA", which is no mail. */
  pseudo: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * One message of an mbox other programs wrote (the content after its `From_` line), as it is
 * restored:
 *
 * 1. the blank line that separates it from the next message is not part of it;
 * 2. `>From ` quoting is undone by the mboxrd rule, one `>` off every line matching `^>+From `.
 *    For mboxrd files (getmail, GYB, mailferry) that gives the original exactly; for mboxo files
 *    (Thunderbird, mutt, Google Takeout) too, except a line that originally began with `>>From `,
 *    which loses one `>` (mboxo cannot tell it apart, correctness.md §4.1);
 * 3. the header fields in `STATE_FIELDS` are taken out, their content having become flags;
 * 4. bare LF becomes CRLF (crlf.ts).
 */
export function readMboxMessage(content: Buffer): ForeignMboxMessage {
  const unquoted = unquote(withoutSeparator(content));
  const end = headerEnd(unquoted);
  const fields = headerFields(unquoted.subarray(0, end));
  const kept: Buffer[] = [];
  let copied = 0;
  for (const f of fields) {
    if (!STATE_FIELDS.has(f.name)) continue;
    kept.push(unquoted.subarray(copied, f.start));
    copied = f.end;
  }
  kept.push(unquoted.subarray(copied));
  return {
    raw: toCrlf(kept.length === 1 ? unquoted : Buffer.concat(kept)),
    flags: flagsFromHeaders(fields),
    pseudo: fields.some((f) => f.name === 'x-imap'),
  };
}

/** Without the last line when it is empty: the blank line writers put between messages. */
function withoutSeparator(content: Buffer): Buffer {
  if (content[content.length - 1] !== LF) return content;
  let at = content.length - 1;
  if (content[at - 1] === CR) at--;
  // An empty last line: preceded by the previous line's LF, or the message is only this line.
  if (at === 0 || content[at - 1] === LF) return content.subarray(0, at);
  return content;
}

/** The fields of a header block, unfolded, with the byte range each occupies (continuation lines included). */
function headerFields(block: Buffer): Array<{ name: string; value: string; start: number; end: number }> {
  const fields: Array<{ name: string; value: string; start: number; end: number }> = [];
  for (let start = 0; start < block.length; ) {
    let end = block.indexOf(LF, start);
    end = end < 0 ? block.length : end + 1;
    // Continuation lines begin with a blank and belong to the field above.
    while (end < block.length && (block[end] === 0x20 || block[end] === 0x09)) {
      const next = block.indexOf(LF, end);
      end = next < 0 ? block.length : next + 1;
    }
    const text = block.subarray(start, end).toString('latin1');
    const colon = text.indexOf(':');
    if (colon > 0) fields.push({ name: text.slice(0, colon).trim().toLowerCase(), value: text.slice(colon + 1).replace(/\r?\n[ \t]*/g, ' ').trim(), start, end });
    start = end;
  }
  return fields;
}

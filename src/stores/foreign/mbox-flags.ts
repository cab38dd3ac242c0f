import { gmailLabels } from './gmail-labels.js';

/**
 * Flags of a message in an mbox other programs wrote, from the header fields mail readers keep
 * them in. Every source adds to the set:
 *
 * - `Status:` R = \Seen (O, "old", has no IMAP flag); `X-Status:` A = \Answered, F = \Flagged,
 *   T = \Draft, D = \Deleted (mutt, Dovecot, UW-IMAP, Pine);
 * - `X-Keywords:` keywords, separated by blanks or commas (Dovecot, mutt);
 * - `X-Mozilla-Status:` Thunderbird's hex bits: 0x1 \Seen, 0x2 \Answered, 0x4 \Flagged,
 *   0x8 \Deleted, 0x1000 $Forwarded; `X-Mozilla-Keys:` its tags as keywords;
 * - `X-Gmail-Labels:` (Google Takeout) \Seen unless the labels include `Unread`, \Flagged for
 *   `Starred`. Other labels are not made keywords: they are often no valid IMAP keyword, and the
 *   header itself stays in the message.
 */
export function flagsFromHeaders(fields: ReadonlyArray<{ name: string; value: string }>): string[] {
  const flags = new Set<string>();
  const keywords = (value: string): void => {
    for (const k of value.split(/[\s,]+/)) if (isKeyword(k)) flags.add(k);
  };
  for (const { name, value } of fields) {
    switch (name) {
      case 'status':
        if (value.includes('R')) flags.add('\\Seen');
        break;
      case 'x-status':
        for (const [letter, flag] of X_STATUS) if (value.includes(letter)) flags.add(flag);
        break;
      case 'x-keywords':
      case 'x-mozilla-keys':
        keywords(value);
        break;
      case 'x-mozilla-status': {
        const bits = /^[0-9a-f]{1,4}$/i.test(value.trim()) ? parseInt(value.trim(), 16) : 0;
        for (const [bit, flag] of MOZILLA_BITS) if (bits & bit) flags.add(flag);
        break;
      }
      case 'x-gmail-labels': {
        const labels = gmailLabels(value);
        if (!labels.includes('Unread')) flags.add('\\Seen');
        if (labels.includes('Starred')) flags.add('\\Flagged');
        break;
      }
    }
  }
  return [...flags];
}

/**
 * Header fields that hold a mail reader's per-mailbox state, not part of the message: taken out
 * of the restored message, since the destination keeps that state as flags (and a stale copy in
 * the headers would contradict them). `X-IMAP`/`X-IMAPbase`/`X-UID` are UW-IMAP's and Dovecot's
 * folder bookkeeping. Content-Length stays: it may be the sender's own.
 */
export const STATE_FIELDS: ReadonlySet<string> = new Set([
  'status', 'x-status', 'x-keywords', 'x-uid', 'x-imap', 'x-imapbase', 'x-mozilla-status', 'x-mozilla-status2', 'x-mozilla-keys',
]);

const X_STATUS: ReadonlyArray<readonly [string, string]> = [['A', '\\Answered'], ['F', '\\Flagged'], ['T', '\\Draft'], ['D', '\\Deleted']];
const MOZILLA_BITS: ReadonlyArray<readonly [number, string]> = [[0x1, '\\Seen'], [0x2, '\\Answered'], [0x4, '\\Flagged'], [0x8, '\\Deleted'], [0x1000, '$Forwarded']];

/** An IMAP keyword is an atom (RFC 3501 §9): printable ASCII without `(){ %*"\]`, not a `\` flag. */
function isKeyword(k: string): boolean {
  return /^[\x21-\x7e]+$/.test(k) && !/[(){%*"\\\]]/.test(k);
}

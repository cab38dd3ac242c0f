/**
 * Google Takeout's `X-Gmail-Labels: Inbox,Important,Unread,takeout`: the message's Gmail labels,
 * comma-separated, a label with a comma in double quotes, and the whole value RFC 2047-encoded
 * when a label is not ASCII (`=?UTF-8?Q?1.Organiza=C4=8Dn=C3=AD,"3._Culture,_Hle?=`).
 */
export function gmailLabels(value: string): string[] {
  const text = decodeEncodedWords(value);
  const labels: string[] = [];
  let label = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      labels.push(label.trim());
      label = '';
    } else label += ch;
  }
  labels.push(label.trim());
  return labels.filter((l) => l.length > 0);
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/** RFC 2047 encoded words decoded; the blanks between two adjacent ones dropped (§6.2). */
function decodeEncodedWords(value: string): string {
  const joined = value.replace(/(\?=)\s+(=\?)/g, '$1$2');
  return joined.replace(ENCODED_WORD, (word, charset: string, encoding: string, text: string) => {
    const bytes = encoding.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    try {
      return new TextDecoder(charset.replace(/\*.*$/, '')).decode(bytes);
    } catch {
      // An unknown charset: keep the word as it was rather than guess.
      return word;
    }
  });
}

/**
 * Reads one header field from a message's raw bytes (or from a header block alone), unfolded
 * (RFC 5322 §2.2.3) and trimmed. Only the header section is looked at; nothing is decoded, since
 * these values only name messages in reports and match Message-IDs.
 */
export function headerValue(raw: Buffer, name: string): string | undefined {
  const end = headerEnd(raw);
  const text = raw.subarray(0, end).toString('latin1');
  const wanted = name.toLowerCase() + ':';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.toLowerCase().startsWith(wanted)) continue;
    let value = lines[i]!.slice(wanted.length);
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) value += ' ' + lines[++i]!.trim();
    return Buffer.from(value.trim(), 'latin1').toString('utf8');
  }
  return undefined;
}

function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  return ends.length > 0 ? Math.min(...ends) : raw.length;
}

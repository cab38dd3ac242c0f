/**
 * Modified UTF-7 (RFC 3501 §5.1.3): the encoding Dovecot uses for folder names on disk, so a
 * Maildir++ directory we write is the one Dovecot would have written for the same folder.
 * Printable ASCII stands for itself (`&` as `&-`); every other run of UTF-16 code units becomes
 * `&<base64 with ',' for '/', no padding>-`. Lone surrogates are encoded as the code units they
 * are, which keeps the encoding injective over every JavaScript string.
 */
export function encodeMutf7(text: string): string {
  let out = '';
  let run: number[] = [];
  const flush = (): void => {
    if (run.length === 0) return;
    const bytes = Buffer.alloc(run.length * 2);
    run.forEach((unit, i) => bytes.writeUInt16BE(unit, i * 2));
    out += `&${bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    run = [];
  };
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x20 && unit <= 0x7e) {
      flush();
      out += unit === 0x26 ? '&-' : text[i];
    } else {
      run.push(unit);
    }
  }
  flush();
  return out;
}

/**
 * The reverse of `encodeMutf7`, for folder names other programs wrote on disk (Dovecot, Courier).
 * Undefined when `text` is not what `encodeMutf7` would write (a bare `&`, a bad base64 run,
 * ASCII inside a run), so a caller can keep a name that was never encoded, such as `R&D`.
 */
export function decodeMutf7(text: string): string | undefined {
  const decoded = text.replace(/&([A-Za-z0-9+,]*)-/g, (_, run: string) => {
    if (run === '') return '&';
    const bytes = Buffer.from(run.replace(/,/g, '/'), 'base64');
    let units = '';
    for (let b = 0; b + 1 < bytes.length; b += 2) units += String.fromCharCode(bytes.readUInt16BE(b));
    return units;
  });
  // The encoding is canonical: anything else does not round-trip.
  return encodeMutf7(decoded) === text ? decoded : undefined;
}

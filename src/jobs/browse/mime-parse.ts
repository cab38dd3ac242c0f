import type { MimeLeaf } from '../../domain/mime-structure.js';
import { decodeWords } from './mime-decode.js';

/** A leaf of a parsed local message, with its encoded body. */
export interface ParsedLeaf extends MimeLeaf {
  body: Buffer;
}

/** The header block (through the blank line after it, or all of `raw` when there is none) and the body. */
export function splitHeader(raw: Buffer): { header: Buffer; body: Buffer } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const cut = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : raw.length;
  return { header: raw.subarray(0, cut), body: raw.subarray(cut) };
}

/** Header fields, unfolded, in order; names lower case. Bytes are read as UTF-8 (RFC 6532). */
export function headerFields(header: Buffer): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const line of header.toString('utf8').split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1]![1] += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    }
  }
  return fields;
}

export function fieldOf(fields: Array<[string, string]>, name: string): string | undefined {
  return fields.find(([n]) => n === name)?.[1];
}

/** `type/subtype; a=b; c="d"` as its value and parameters (names lower case, RFC 2231 `name*` decoded). */
export function parseParams(value: string | undefined): { value: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  if (!value) return { value: '', params };
  const [head, ...rest] = value.match(/(?:[^;"]|"(?:[^"\\]|\\.)*")+/g) ?? [''];
  for (const item of rest) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const name = item.slice(0, eq).trim().toLowerCase();
    let v = item.slice(eq + 1).trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (name.endsWith('*')) {
      const m = /^([^']*)'[^']*'(.*)$/.exec(v);
      try {
        params.set(name.slice(0, -1), m ? decodeURIComponent(m[2]!) : v);
      } catch {
        params.set(name.slice(0, -1), v);
      }
    } else if (!params.has(name)) params.set(name, decodeWords(v));
  }
  return { value: head!.trim().toLowerCase(), params };
}

/**
 * The MIME leaves of a raw message, numbered as IMAP numbers them. A multipart whose boundary
 * never appears, or that has no parts, is taken as one opaque leaf rather than refused: browsing
 * must show what is there. An attached message (message/rfc822) is one leaf.
 */
export function parseMime(raw: Buffer): ParsedLeaf[] {
  return leavesOf(raw, '');
}

function leavesOf(entity: Buffer, prefix: string): ParsedLeaf[] {
  const { header, body } = splitHeader(entity);
  const fields = headerFields(header);
  const ct = parseParams(fieldOf(fields, 'content-type') ?? 'text/plain');
  const boundary = ct.params.get('boundary');
  if (ct.value.startsWith('multipart/') && boundary) {
    const parts = splitMultipart(body, boundary);
    if (parts.length > 0) return parts.flatMap((p, i) => leavesOf(p, prefix ? `${prefix}.${i + 1}` : String(i + 1)));
  }
  const disposition = parseParams(fieldOf(fields, 'content-disposition'));
  const name = disposition.params.get('filename') ?? ct.params.get('name');
  return [
    {
      part: prefix || '1',
      type: ct.value.includes('/') ? ct.value : 'text/plain',
      ...(ct.params.get('charset') ? { charset: ct.params.get('charset') } : {}),
      encoding: (fieldOf(fields, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase(),
      ...(name ? { name } : {}),
      ...(disposition.value ? { disposition: disposition.value } : {}),
      size: body.length,
      body,
    },
  ];
}

/** The entities between `--boundary` lines, up to `--boundary--`; the line break before a delimiter belongs to it. */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const text = body.toString('latin1');
  const delimiter = new RegExp(`(?:^|\\r?\\n)--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*(?=\\r?\\n|$)`, 'g');
  const parts: Buffer[] = [];
  let start = -1;
  for (const m of text.matchAll(delimiter)) {
    if (start >= 0) parts.push(Buffer.from(text.slice(start, m.index), 'latin1'));
    if (m[1]) return parts;
    // The entity starts after the delimiter line's own line break.
    const after = m.index + m[0].length;
    start = text.startsWith('\r\n', after) ? after + 2 : text.startsWith('\n', after) ? after + 1 : after;
  }
  // No closing delimiter: what follows the last one is still a part.
  if (start >= 0) parts.push(Buffer.from(text.slice(start), 'latin1'));
  return parts;
}

/**
 * The wire side of the fake Gmail server: reading client commands (with their literals) off a
 * socket, splitting them into tokens, and the small IMAP encodings both directions need.
 * Message bytes stay Buffers throughout; command text is handled as latin1 so every byte maps
 * to one character and nothing is re-encoded on the way.
 */

/** Pull-style reader: the session awaits one line or n bytes, whatever the TCP chunking was. */
export class ByteReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  /** Resolves the pending wait(), if any; calling it again is harmless. */
  private wake: () => void = () => undefined;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  /** A line without its CRLF (a bare LF ends one too), or null when the stream ended first. */
  async line(maxLength: number): Promise<Buffer | null> {
    let scanned = 0;
    for (;;) {
      const buf = this.flatten();
      const lf = buf.indexOf(10, scanned);
      if (lf >= 0) {
        this.consume(buf, lf + 1);
        return Buffer.from(buf.subarray(0, lf > 0 && buf[lf - 1] === 13 ? lf - 1 : lf));
      }
      if (buf.length > maxLength) throw new ParseError('Line too long');
      scanned = buf.length;
      if (this.ended) return null;
      await this.wait();
    }
  }

  /** Exactly n bytes (a literal), copied so the stored message does not pin the socket chunk. */
  async bytes(n: number): Promise<Buffer | null> {
    while (this.size < n) {
      if (this.ended) return null;
      await this.wait();
    }
    const buf = this.flatten();
    this.consume(buf, n);
    return Buffer.from(buf.subarray(0, n));
  }

  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private consume(buf: Buffer, n: number): void {
    this.chunks = n < buf.length ? [buf.subarray(n)] : [];
    this.size -= n;
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
}

export class ParseError extends Error {}

/**
 * One client command as received: its lines joined by CRLF, each literal's bytes taken out into
 * `literals` (the `{n}` marker stays in the text, so the tokenizer knows where each one goes).
 */
export interface RawCommand {
  tag: string;
  text: string;
  literals: Buffer[];
  /** Set when the command was refused while it was being read; this is the tagged answer. */
  refused?: string;
}

/** Decides on a synchronizing literal before the client sends it: an answer refuses the command. */
export type LiteralGate = (textSoFar: string, size: number) => string | undefined;

const LITERAL_AT_END = /\{(\d+)(\+?)\}$/;
const MAX_LINE = 8 * 1024 * 1024;
/** RFC 7888: LITERAL- allows a non-synchronizing literal only up to this size. */
const LITERAL_MINUS_MAX = 4096;

export async function readCommand(reader: ByteReader, prompt: () => Promise<void>, gate: LiteralGate): Promise<RawCommand | null> {
  const first = await reader.line(MAX_LINE);
  if (first === null) return null;
  let line = first.toString('latin1');
  const cmd: RawCommand = { tag: /^[^\s(){%*"\\\]]*/.exec(line)?.[0] || '*', text: '', literals: [] };
  for (;;) {
    cmd.text += line;
    const m = LITERAL_AT_END.exec(line);
    if (!m) return cmd;
    const size = Number(m[1]);
    const sync = m[2] !== '+';
    if (sync && !cmd.refused) {
      cmd.refused = gate(cmd.text, size);
      // The client sends nothing more of a command whose literal was not invited.
      if (cmd.refused) return cmd;
      await prompt();
    } else if (sync) {
      return cmd; // already refused: the client waits for a "+" that never comes, and reads our BAD
    } else if (size > LITERAL_MINUS_MAX) {
      cmd.refused ??= 'BAD [CLIENTBUG] Non-synchronizing literal larger than 4096 bytes (LITERAL-)';
    }
    const data = await reader.bytes(size);
    if (data === null) return null;
    cmd.literals.push(cmd.refused ? Buffer.alloc(0) : data);
    cmd.text += '\r\n';
    const next = await reader.line(MAX_LINE);
    if (next === null) return null;
    line = next.toString('latin1');
  }
}

export type Token = { kind: 'atom'; value: string } | { kind: 'string'; value: Buffer } | { kind: 'list'; items: Token[] };

/** Splits a command into tokens: atoms (with `[...]` sections kept whole), strings, literals, lists. */
export function tokenize(cmd: RawCommand): Token[] {
  const { text, literals } = cmd;
  let pos = 0;
  let literalIndex = 0;
  const literalMarker = /\{(\d+)\+?\}\r\n/y;
  const parseList = (closer: string | undefined): Token[] => {
    const out: Token[] = [];
    for (;;) {
      while (text[pos] === ' ') pos++;
      const c = text[pos];
      if (c === undefined) {
        if (closer) throw new ParseError('Unterminated list');
        return out;
      }
      if (c === ')') {
        if (!closer) throw new ParseError('Unexpected )');
        pos++;
        return out;
      }
      if (c === '(') {
        pos++;
        out.push({ kind: 'list', items: parseList(')') });
      } else if (c === '"') {
        let value = '';
        for (pos++; text[pos] !== '"'; pos++) {
          if (text[pos] === '\\') pos++;
          if (pos >= text.length || text[pos] === '\r') throw new ParseError('Unterminated quoted string');
          value += text[pos];
        }
        pos++;
        out.push({ kind: 'string', value: Buffer.from(value, 'latin1') });
      } else if (((literalMarker.lastIndex = pos), literalMarker.test(text))) {
        const data = literals[literalIndex++];
        if (!data) throw new ParseError('Literal missing');
        pos = literalMarker.lastIndex;
        out.push({ kind: 'string', value: data });
      } else {
        const start = pos;
        let depth = 0;
        // A section like BODY[HEADER.FIELDS (A B)] holds spaces and parentheses: keep it one atom.
        while (pos < text.length && (depth > 0 || !' ()\r'.includes(text[pos] as string))) {
          if (text[pos] === '[') depth++;
          else if (text[pos] === ']') depth--;
          pos++;
        }
        if (depth > 0) throw new ParseError('Unterminated [');
        if (pos === start) throw new ParseError(`Unexpected character ${JSON.stringify(text[pos])}`);
        out.push({ kind: 'atom', value: text.slice(start, pos) });
      }
    }
  };
  return parseList(undefined);
}

/** The token as text: an atom, or a string / literal read as UTF-8. */
export function tokenText(tok: Token | undefined): string {
  if (tok?.kind === 'atom') return tok.value;
  if (tok?.kind === 'string') return tok.value.toString('utf8');
  throw new ParseError('Expected a string');
}

export function tokenList(tok: Token | undefined): Token[] {
  if (tok?.kind === 'list') return tok.items;
  if (tok) return [tok]; // a single item may come without parentheses (FETCH n FLAGS, STORE ... \Seen)
  throw new ParseError('Expected a list');
}

/**
 * A sequence set (RFC 3501) as a membership test. `*` stands for `max`, the highest number in
 * use; `n:*` with n above it still names the highest message, as the RFC says.
 */
export function seqSet(spec: string, max: number): (n: number) => boolean {
  if (!/^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(spec)) throw new ParseError('Invalid sequence set');
  // Single numbers in a Set: a client may name thousands of scattered UIDs in one command.
  const singles = new Set<number>();
  const ranges: Array<[number, number]> = [];
  for (const part of spec.split(',')) {
    const [a = 0, b] = part.split(':').map((x) => (x === '*' ? max : Number(x)));
    if (b === undefined) singles.add(a);
    else ranges.push([Math.min(a, b), Math.max(a, b)]);
  }
  return (n) => singles.has(n) || ranges.some(([lo, hi]) => n >= lo && n <= hi);
}

/** Modified UTF-7 (RFC 3501 5.1.3), how folder names and labels travel without UTF8=ACCEPT. */
export function encodeMailboxName(name: string): string {
  return name
    .replace(/&/g, '&-')
    .replace(/[^\x20-\x7e]+/g, (run) => '&' + Buffer.from(run, 'utf16le').swap16().toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-');
}

export function decodeMailboxName(name: string): string {
  return name.replace(/&([^-]*)-/g, (whole, b64: string) => {
    if (!b64) return '&';
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    return bytes.length % 2 ? whole : bytes.swap16().toString('utf16le');
  });
}

export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMAP date-time, always in UTC: "07-Mar-2024 09:05:01 +0000". */
export function formatImapDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function parseImapDate(s: string): Date {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(s);
  const month = m ? MONTHS.findIndex((x) => x.toLowerCase() === (m[2] as string).toLowerCase()) : -1;
  if (!m || month < 0) throw new ParseError('Invalid date-time');
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return new Date(Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000);
}

// Deterministic generated mail for tests and benchmarks. Everything derives from `seed` through
// mulberry32 (never Date.now() or Math.random()), so a failing seed replays byte for byte.
// Messages are built one at a time: a 50k-message corpus never sits in memory.

export interface CorpusMessage {
  /** '/'-separated path, e.g. 'Work/Projects/2024' or 'INBOX' */
  folder: string;
  /** CRLF line endings, never empty */
  raw: Buffer;
  flags: string[];
  internalDate: Date;
}

export interface CorpusFolder {
  path: string;
  specialUse?: '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive';
}

export interface CorpusOptions {
  seed: number;
  messages: number;
  /** total folders, default 16; the 16 hostile/structural ones below are always present */
  folders?: number;
  /** bytes, default 3_000_000 */
  maxSize?: number;
  /** extra messages of these sizes in INBOX, after the others, e.g. [20e6] */
  bigMessages?: number[];
  /** plain text bodies only (no base64 attachments), e.g. for compression benchmarks */
  textHeavy?: boolean;
}

// Parents come before children so a seeder can create them in order.
const REQUIRED_FOLDERS: CorpusFolder[] = [
  { path: 'INBOX' },
  { path: 'Sent', specialUse: '\\Sent' },
  { path: 'Drafts', specialUse: '\\Drafts' },
  { path: 'Trash', specialUse: '\\Trash' },
  { path: 'Junk', specialUse: '\\Junk' },
  { path: 'Archive', specialUse: '\\Archive' },
  { path: 'Work' },
  { path: 'Work/Projects' },
  { path: 'Work/Projects/2024' },
  { path: 'Mailing Lists' },
  { path: 'Mailing Lists/dovecot' },
  { path: 'Économie' },
  { path: '日本語' },
  { path: 'Ящик' },
  { path: 'Ящик/Входящие' },
  { path: 'R&D' },
];

export const KEYWORDS = ['$Label1', '$Forwarded', 'NonJunk', 'Project_X'] as const;

export function corpusFolders(opts: CorpusOptions): CorpusFolder[] {
  const folders = [...REQUIRED_FOLDERS];
  const wanted = opts.folders ?? REQUIRED_FOLDERS.length;
  if (wanted > folders.length) folders.push({ path: 'Bulk' });
  for (let n = 1; folders.length < wanted; n++) folders.push({ path: `Bulk/Folder ${String(n).padStart(3, '0')}` });
  return folders;
}

export function* generateCorpus(opts: CorpusOptions): Generator<CorpusMessage> {
  const folders = corpusFolders(opts).map((f) => f.path);
  const maxSize = opts.maxSize ?? 3_000_000;
  let previous: { message: CorpusMessage; messageId: string | undefined } | undefined;
  for (let i = 0; i < opts.messages; i++) {
    const rng = new Rng(mix(opts.seed, i));
    // Each rare feature also fires on a fixed schedule, so even a 100-message corpus has it.
    if (previous && (i % 97 === 13 || rng.chance(0.01))) {
      // An exact duplicate: same bytes, flags and date, same folder (multiset semantics, F7).
      const { message } = previous;
      yield { ...message, raw: Buffer.from(message.raw), flags: [...message.flags] };
      continue;
    }
    // Spread the first messages over every folder, then favour INBOX as real mailboxes do.
    const folder = i < folders.length ? folders[i]! : rng.chance(0.35) ? 'INBOX' : rng.pick(folders);
    const reuseId = previous?.messageId !== undefined && (i % 89 === 21 || rng.chance(0.015));
    const built = buildMessage(rng, {
      index: i,
      seed: opts.seed,
      folder,
      size: logNormalSize(rng, maxSize),
      textHeavy: opts.textHeavy ?? false,
      messageId: reuseId ? previous!.messageId : i % 53 === 5 || rng.chance(0.03) ? undefined : newMessageId(rng, opts.seed, i),
      rawUtf8Subject: i % 41 === 3 || rng.chance(0.04),
      fromLines: i % 37 === 2 || rng.chance(0.05),
    });
    previous = built;
    yield built.message;
  }
  for (const [k, size] of (opts.bigMessages ?? []).entries()) {
    const i = opts.messages + k;
    const rng = new Rng(mix(opts.seed, i));
    yield buildMessage(rng, {
      index: i, seed: opts.seed, folder: 'INBOX', size, textHeavy: opts.textHeavy ?? false,
      messageId: newMessageId(rng, opts.seed, i), rawUtf8Subject: false, fromLines: false,
    }).message;
  }
}

interface MessagePlan {
  index: number;
  seed: number;
  folder: string;
  size: number;
  textHeavy: boolean;
  messageId: string | undefined;
  rawUtf8Subject: boolean;
  fromLines: boolean;
}

const START = Date.UTC(2006, 0, 1) / 1000;
const END = Date.UTC(2026, 0, 1) / 1000;
const ZONES = [0, 540, -300, 330, -480, 60, 120, 345, -210, 600, -180, 765];
const ATTACHMENT_THRESHOLD = 24_000;
const PEOPLE = [
  ['Alice Martin', 'alice@example.org'], ['Bob Stone', 'bob@example.com'],
  ['Chloé Dubois', 'chloe@example.fr'], ['田中 太郎', 'tanaka@example.jp'],
  ['Иван Петров', 'ivan@example.ru'], ['dovecot list', 'dovecot@dovecot.org'],
  ['Priya Nair', 'priya@example.in'], ['Carlos Ruiz', 'carlos@example.mx'],
] as const;
const WORDS = (
  'the of and to in is for on with as this that mail server folder backup restore message sync ' +
  'quota index flag archive report meeting budget project draft review release update ' +
  'café naïve Grüße 東京 会議 Привет отчёт Économie résumé über señor'
).split(' ');

function buildMessage(rng: Rng, p: MessagePlan): { message: CorpusMessage; messageId: string | undefined } {
  const internal = START + rng.int(END - START);
  const zone = rng.pick(ZONES);
  const [fromName, fromAddr] = rng.pick(PEOPLE);
  const [toName, toAddr] = rng.pick(PEOPLE);
  const subjectText = `${sentence(rng, 2 + rng.int(6))} #${p.index}`;
  const subject = p.rawUtf8Subject
    ? `café ${subjectText}` // raw 8-bit UTF-8 in a header, as broken mailers send it (F8)
    : rng.chance(0.2) ? encodedWord(`Ré: ${subjectText}`) : subjectText;
  const headers = [
    ...(p.size > 1500 ? [
      `Return-Path: <${fromAddr}>`,
      `Received: from mx${rng.int(9)}.example.net (mx.example.net [192.0.2.${rng.int(255)}])\r\n` +
        `\tby mail.example.org with ESMTPS id ${hex(rng, 12)}\r\n\tfor <${toAddr}>; ${rfc2822Date(internal, zone)}`,
    ] : []),
    `Date: ${rfc2822Date(internal - rng.int(7200), zone)}`,
    `From: ${encodedWord(fromName)} <${fromAddr}>`,
    `To: ${encodedWord(toName)} <${toAddr}>`,
    `Subject: ${subject}`,
    ...(p.messageId ? [`Message-ID: ${p.messageId}`] : []),
    'MIME-Version: 1.0',
  ];
  const headerBytes = Buffer.byteLength(headers.join('\r\n')) + 4;
  const useAttachment = !p.textHeavy && p.size > ATTACHMENT_THRESHOLD;
  const body = useAttachment
    ? multipartBody(rng, headers, p.size - headerBytes, p.fromLines)
    : textBody(rng, headers, p.size - headerBytes, p.fromLines);
  const raw = Buffer.concat([Buffer.from(`${headers.join('\r\n')}\r\n\r\n`), ...body]);
  return {
    message: { folder: p.folder, raw, flags: randomFlags(rng, p.folder, p.index), internalDate: new Date(internal * 1000) },
    messageId: p.messageId,
  };
}

/** Appends the Content-Type headers to `headers` and returns the body chunks. */
function textBody(rng: Rng, headers: string[], size: number, fromLines: boolean): Buffer[] {
  headers.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
  return [Buffer.from(textLines(rng, Math.max(20, size - 90), fromLines).join('\r\n') + '\r\n')];
}

function multipartBody(rng: Rng, headers: string[], size: number, fromLines: boolean): Buffer[] {
  const boundary = `=_mf_${hex(rng, 16)}`;
  headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
  const text = textLines(rng, 400 + rng.int(2000), fromLines).join('\r\n');
  const name = `${rng.pick(['report', 'scan', 'photo', 'archive'])}-${rng.int(1000)}.bin`;
  const head = [
    'This is a multi-part message in MIME format.', '', `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', text, '',
    `--${boundary}`, `Content-Type: application/octet-stream; name="${name}"`,
    'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${name}"`, '', '',
  ].join('\r\n');
  const tail = `\r\n--${boundary}--\r\n`;
  // Base64 turns each 57-byte line into 76 characters plus CRLF.
  const base64Bytes = size - Buffer.byteLength(head) - tail.length;
  return [Buffer.from(head), base64Lines(rng, Math.max(57, Math.floor((base64Bytes * 57) / 78))), Buffer.from(tail)];
}

/** Random bytes as base64 lines of 76 characters, written straight into one buffer (no string pile-up). */
function base64Lines(rng: Rng, bytes: number): Buffer {
  const data = Buffer.allocUnsafe(bytes + 3);
  for (let off = 0; off < bytes; off += 4) data.writeUInt32LE(rng.uint32(), off);
  const lines = Math.ceil(bytes / 57);
  const out = Buffer.allocUnsafe(lines * 78);
  let pos = 0;
  for (let off = 0; off < bytes; off += 57) {
    if (pos > 0) pos += out.write('\r\n', pos, 'latin1');
    pos += out.write(data.toString('base64', off, Math.min(bytes, off + 57)), pos, 'latin1');
  }
  return out.subarray(0, pos);
}

/** Text lines of about `size` UTF-8 bytes, optionally with mbox-sensitive `From ` lines. */
function textLines(rng: Rng, size: number, fromLines: boolean): string[] {
  const lines: string[] = [];
  let bytes = 0;
  if (fromLines) {
    // mboxrd must quote these on export and unquote on import (correctness.md 4.1).
    lines.push('Hello,', '', 'From the archive, as promised:', '>From a quoted mbox line', '>>From deeper still', '');
    bytes += 90;
  }
  while (bytes < size) {
    const line = rng.chance(0.15) ? '' : sentence(rng, 4 + rng.int(9));
    lines.push(line);
    bytes += Buffer.byteLength(line) + 2;
  }
  return lines;
}

function randomFlags(rng: Rng, folder: string, index: number): string[] {
  const seen = folder === 'Sent' || folder === 'Archive' ? 0.97 : 0.7;
  const flags: string[] = [];
  if (rng.chance(seen)) flags.push('\\Seen');
  if (rng.chance(0.15)) flags.push('\\Answered');
  if (rng.chance(0.08)) flags.push('\\Flagged');
  if (rng.chance(folder === 'Drafts' ? 0.9 : 0.01)) flags.push('\\Draft');
  for (const [k, keyword] of KEYWORDS.entries()) {
    if (rng.chance(0.06) || index % 23 === 1 + k) flags.push(keyword);
  }
  return flags;
}

/** Log-normal with a median of about 6 KB, clamped to [200, maxSize]. */
function logNormalSize(rng: Rng, maxSize: number): number {
  return Math.round(Math.min(maxSize, Math.max(200, Math.exp(Math.log(6000) + 1.3 * rng.normal()))));
}

function sentence(rng: Rng, words: number): string {
  const out: string[] = [];
  for (let w = 0; w < words; w++) out.push(rng.pick(WORDS));
  const s = out.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1) + '.';
}

function newMessageId(rng: Rng, seed: number, index: number): string {
  return `<${index.toString(36)}.${(seed >>> 0).toString(36)}.${hex(rng, 8)}@mailferry.test>`;
}

/** RFC 2047 B-encoding for non-ASCII display names and subjects. */
function encodedWord(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`;
}

function rfc2822Date(epochSeconds: number, zoneMinutes: number): string {
  const local = new Date((epochSeconds + zoneMinutes * 60) * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  const abs = Math.abs(zoneMinutes);
  const zone = `${zoneMinutes < 0 ? '-' : '+'}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
  return `${days[local.getUTCDay()]}, ${local.getUTCDate()} ${months[local.getUTCMonth()]} ${local.getUTCFullYear()} ` +
    `${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())} ${zone}`;
}

function hex(rng: Rng, digits: number): string {
  let s = '';
  while (s.length < digits) s += rng.uint32().toString(16).padStart(8, '0');
  return s.slice(0, digits);
}

/** Derives an independent stream per message, so message i does not depend on earlier sizes. */
function mix(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

/** mulberry32: tiny, fast, and good enough for test data. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  next(): number {
    return this.uint32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Standard normal via Box-Muller. */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
}

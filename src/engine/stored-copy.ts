import { isAscii } from 'node:buffer';
import type { FolderHandle } from '../stores/store.js';
import { sha256 } from './hash.js';
import type { MessageShape } from './message-shape.js';
import type { MessageKind, StoredCopyTrust } from './stored-copy-trust.js';

/** A message the destination stored with other bytes than it was sent. */
export interface StoredDifference {
  size: number;
  sha256: string;
}

/**
 * Looks at what the destination stored for messages just appended (those whose new UID is known),
 * as cheaply as the known alterations (server-alteration.ts) allow: one FETCH of their
 * RFC822.SIZE, with the headers when one has an 8-bit header byte (Cyrus rewrites it in place); the
 * whole message where the size differs, a NUL was sent (Dovecot's 0x80 keeps the size) or the
 * header came back different. With `trust`, only the messages of a kind the run has not yet seen
 * stored as sent often enough are looked at (stored-copy-trust.ts), and what is seen adds to it.
 * Returns, by destination UID, the stored copy's size and hash where they differ from what was
 * sent, so a rerun recognises the copy as the message's.
 */
export async function storedDifferences(dst: FolderHandle, sent: SentCopy[], trust?: StoredCopyTrust): Promise<Map<number, StoredDifference>> {
  const byUid = new Map<number, SentCopy & { kind: MessageKind }>();
  for (const s of sent) {
    const kind = s.shape.kind;
    if (!trust || trust.mustLook(kind)) byUid.set(s.uid, { ...s, kind });
  }
  const out = new Map<number, StoredDifference>();
  if (byUid.size === 0) return out;
  const whole: number[] = [];
  const headers: number[] = [];
  // Which headers need a look is known from what was sent: when any does, every header comes with
  // the sizes, one FETCH where a second for those headers alone would cost another round trip.
  const eightBit = new Set([...byUid].filter(([, s]) => s.shape.header !== undefined && !isAscii(s.shape.header)).map(([uid]) => uid));
  // Messages whose stored bytes are not known: not answered, or not read back where they had to be.
  const unknown = new Set(byUid.keys());
  for (const m of await dst.scan({ uids: [...byUid.keys()].sort((a, b) => a - b), ...(eightBit.size > 0 ? { header: true } : {}) })) {
    unknown.delete(m.uid);
    const { shape } = byUid.get(m.uid)!;
    if (m.size !== shape.size || shape.nul || shape.header === undefined) whole.push(m.uid);
    else if (!eightBit.has(m.uid)) continue;
    else if (m.header === undefined) headers.push(m.uid);
    else if (!m.header.equals(shape.header)) whole.push(m.uid);
  }
  if (headers.length > 0) {
    for (const uid of headers) unknown.add(uid);
    for (const m of await dst.scan({ uids: headers, header: true })) {
      unknown.delete(m.uid);
      if (!m.header?.equals(byUid.get(m.uid)!.shape.header!)) whole.push(m.uid);
    }
  }
  if (whole.length > 0) {
    for (const uid of whole) unknown.add(uid);
    for await (const m of dst.fetch(whole.sort((a, b) => a - b))) {
      // Not read back whole: nothing is known of how it was stored, as when it was not answered.
      if (m.damaged !== undefined) continue;
      unknown.delete(m.uid);
      const hash = sha256(m.raw);
      if (hash !== byUid.get(m.uid)?.sha256) out.set(m.uid, { size: m.raw.length, sha256: hash });
    }
  }
  for (const [uid, s] of byUid) if (!unknown.has(uid)) trust?.looked(s.kind, !out.has(uid));
  return out;
}

/** A message just appended: its new UID, its identity, and what it was like (`MessageShape`). */
export interface SentCopy {
  uid: number;
  sha256: string;
  shape: MessageShape;
}

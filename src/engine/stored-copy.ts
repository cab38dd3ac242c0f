import type { FolderHandle } from '../stores/store.js';
import { sha256 } from './hash.js';
import { mayChangeInPlace } from './server-alteration.js';

/** A message the destination stored with other bytes than it was sent. */
export interface StoredDifference {
  size: number;
  sha256: string;
}

/**
 * Looks at what the destination stored for messages just appended (those whose new UID is known):
 * one FETCH of their RFC822.SIZE, then the bytes of those whose size differs or which a server may
 * change in place (server-alteration.ts). Returns, by destination UID, the stored copy's size and
 * hash where they differ from what was sent, so a rerun recognises the copy as the message's.
 */
export async function storedDifferences(dst: FolderHandle, sent: Array<{ uid?: number; raw: Buffer; sha256: string }>): Promise<Map<number, StoredDifference>> {
  const byUid = new Map<number, { raw: Buffer; sha256: string }>();
  for (const s of sent) if (s.uid !== undefined) byUid.set(s.uid, s);
  const out = new Map<number, StoredDifference>();
  if (byUid.size === 0) return out;
  const metas = await dst.scan({ uids: [...byUid.keys()].sort((a, b) => a - b) });
  const suspects = metas.filter((m) => m.size !== byUid.get(m.uid)!.raw.length || mayChangeInPlace(byUid.get(m.uid)!.raw)).map((m) => m.uid);
  if (suspects.length === 0) return out;
  for await (const m of dst.fetch(suspects)) {
    const hash = sha256(m.raw);
    if (hash !== byUid.get(m.uid)?.sha256) out.set(m.uid, { size: m.raw.length, sha256: hash });
  }
  return out;
}

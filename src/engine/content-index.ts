import type { FolderHandle } from '../stores/store.js';
import type { MessageMeta } from '../domain/types.js';
import { sha256 } from './hash.js';

/**
 * Destination messages that may already hold copies of source messages: those of a destination
 * folder met without a usable checkpoint (first run into a non-empty folder, a lost state file,
 * a UIDVALIDITY change), or above the UIDNEXT recorded before an APPEND whose outcome is unknown.
 *
 * Matching is by size, confirmed by SHA-256, and each destination message is claimed at most
 * once, so messages that exist twice at the source are copied until the destination has them
 * twice too (a multiset, never a set).
 */
export class ContentIndex {
  private readonly bySize = new Map<number, number[]>();
  private readonly hashes = new Map<number, string>();

  constructor(
    metas: MessageMeta[],
    /** Hashes already known from the checkpoint, by destination UID, to save fetches. */
    knownHashes: ReadonlyMap<number, string>,
  ) {
    for (const m of metas) {
      const list = this.bySize.get(m.size);
      if (list) list.push(m.uid);
      else this.bySize.set(m.size, [m.uid]);
      const known = knownHashes.get(m.uid);
      if (known) this.hashes.set(m.uid, known);
    }
  }

  get size(): number {
    let n = 0;
    for (const list of this.bySize.values()) n += list.length;
    return n;
  }

  /**
   * Claims a destination copy for each of `wanted` (size and hash) if one exists, fetching
   * destination bodies of same-size candidates in one go. Returns the claimed UID per entry.
   */
  async claim(dest: FolderHandle, wanted: Array<{ size: number; sha256: string }>): Promise<Array<number | undefined>> {
    const unknown = new Set<number>();
    for (const w of wanted) {
      for (const uid of this.bySize.get(w.size) ?? []) if (!this.hashes.has(uid)) unknown.add(uid);
    }
    if (unknown.size > 0) {
      for await (const m of dest.fetch([...unknown].sort((a, b) => a - b))) this.hashes.set(m.uid, sha256(m.raw));
    }
    return wanted.map((w) => {
      const list = this.bySize.get(w.size);
      if (!list) return undefined;
      const i = list.findIndex((uid) => this.hashes.get(uid) === w.sha256);
      if (i < 0) return undefined;
      const [uid] = list.splice(i, 1);
      return uid;
    });
  }
}

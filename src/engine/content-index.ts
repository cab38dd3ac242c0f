import type { FolderHandle } from '../stores/store.js';
import type { MessageMeta } from '../domain/types.js';
import { sha256 } from './hash.js';
import { canonicalForm } from './server-alteration.js';

/** A destination copy found for a source message. */
export interface Claimed {
  uid: number;
  /** SHA-256 of the destination's bytes; differs from the source's when the server altered them. */
  sha256: string;
}

/**
 * Destination messages that may already hold copies of source messages: those of a destination
 * folder met without a usable checkpoint (first run into a non-empty folder, a lost state file,
 * a UIDVALIDITY change), or above the UIDNEXT recorded before an APPEND whose outcome is unknown.
 *
 * Matching is by size, confirmed by SHA-256, and each destination message is claimed at most
 * once, so messages that exist twice at the source are copied until the destination has them
 * twice too (a multiset, never a set). A message with no exact copy may still have one its server
 * altered on APPEND (server-alteration.ts): matched second, by the size and hash of the canonical
 * form, so it is not copied again either.
 */
export class ContentIndex {
  private readonly bySize = new Map<number, number[]>();
  private readonly hashes = new Map<number, string>();
  private readonly canonicalHashes = new Map<number, string>();
  private readonly sizes = new Map<number, number>();

  constructor(
    metas: MessageMeta[],
    /** Hashes already known from the checkpoint, by destination UID, to save fetches. */
    knownHashes: ReadonlyMap<number, string>,
  ) {
    for (const m of metas) {
      this.sizes.set(m.uid, m.size);
      const list = this.bySize.get(m.size);
      if (list) list.push(m.uid);
      else this.bySize.set(m.size, [m.uid]);
      const known = knownHashes.get(m.uid);
      if (known) this.hashes.set(m.uid, known);
    }
  }

  /** The RFC822.SIZE a destination message was listed with. */
  sizeOf(uid: number): number | undefined {
    return this.sizes.get(uid);
  }

  get size(): number {
    let n = 0;
    for (const list of this.bySize.values()) n += list.length;
    return n;
  }

  /**
   * Claims a destination copy for each of `wanted` if one exists: exact copies first for all of
   * them, then altered ones for the rest, fetching destination bodies of same-size candidates in
   * one go per round. Returns the claim per entry.
   */
  async claim(dest: FolderHandle, wanted: Array<{ raw: Buffer; sha256: string }>): Promise<Array<Claimed | undefined>> {
    await this.learn(dest, wanted.map((w) => w.raw.length));
    const out = wanted.map((w) => this.take(w.raw.length, w.sha256, this.hashes));
    if (this.size === 0) return out;
    // Only a message with something a server changes can have an altered copy.
    const canonical = new Map<number, Buffer>();
    for (const [i, w] of wanted.entries()) {
      const c = out[i] === undefined ? canonicalForm(w.raw) : w.raw;
      if (c !== w.raw) canonical.set(i, c);
    }
    if (canonical.size === 0) return out;
    await this.learn(dest, [...canonical.values()].map((c) => c.length));
    for (const [i, c] of canonical) out[i] = this.take(c.length, sha256(c), this.canonicalHashes);
    return out;
  }

  /** Fetches and hashes the candidates of these sizes whose hashes are not known yet. */
  private async learn(dest: FolderHandle, sizes: number[]): Promise<void> {
    const unknown = new Set<number>();
    for (const size of sizes) for (const uid of this.bySize.get(size) ?? []) if (!this.hashes.has(uid)) unknown.add(uid);
    if (unknown.size === 0) return;
    for await (const m of dest.fetch([...unknown].sort((a, b) => a - b))) {
      // Not read back whole: its hash would be of other bytes than the message's.
      if (m.damaged !== undefined) continue;
      this.hashes.set(m.uid, sha256(m.raw));
      const c = canonicalForm(m.raw);
      if (c !== m.raw) this.canonicalHashes.set(m.uid, sha256(c));
    }
  }

  private take(size: number, hash: string, by: ReadonlyMap<number, string>): Claimed | undefined {
    const list = this.bySize.get(size);
    if (!list) return undefined;
    // A destination message already canonical (most are) has its plain hash as canonical hash.
    const i = list.findIndex((uid) => (by.get(uid) ?? this.hashes.get(uid)) === hash);
    if (i < 0) return undefined;
    const [uid] = list.splice(i, 1);
    return { uid: uid!, sha256: this.hashes.get(uid!)! };
  }
}

import { createHash } from 'node:crypto';
import type { FolderStatus, MessageData, MessageMeta } from '../../domain/types.js';
import type { ScanRange } from '../store.js';
import type { ReadableFolder } from '../local-source.js';

/**
 * A folder of mail other programs wrote, listed once when it is loaded: metadata in memory (a few
 * dozen bytes a message), bodies read from disk on fetch. Nothing here keeps UIDs on disk, so
 * UIDs are positions in a stable order, and the UIDVALIDITY is derived from what that order was
 * computed from (`generationOf`): if the folder changed between two runs, its UIDVALIDITY
 * changes too, and the engine matches messages by content instead of trusting old UIDs.
 */
export class ListedFolder implements ReadableFolder {
  private readonly byUid: ReadonlyMap<number, MessageMeta>;

  constructor(
    readonly status: FolderStatus,
    /** In ascending UID order, `size` being the size of what `read` gives. */
    private readonly metas: readonly MessageMeta[],
    private readonly read: (uid: number) => Promise<Buffer | undefined>,
    /** Messages whose bytes are known not to be whole, by UID: why (see MessageData.damaged). */
    private readonly damaged: ReadonlyMap<number, string> = new Map(),
  ) {
    this.byUid = new Map(metas.map((m) => [m.uid, m]));
  }

  async scan(range: ScanRange): Promise<MessageMeta[]> {
    const from = range.fromUid ?? 1;
    const wanted = range.uids ? new Set(range.uids) : undefined;
    return this.metas.filter((m) => m.uid >= from && (!wanted || wanted.has(m.uid))).map((m) => ({ ...m, flags: [...m.flags] }));
  }

  async *fetch(uids: number[]): AsyncIterable<MessageData> {
    for (const uid of [...uids].sort((a, b) => a - b)) {
      const meta = this.byUid.get(uid);
      const raw = meta ? await this.read(uid) : undefined;
      // Gone since the listing (a mail reader moved or deleted it): absent, as the contract says.
      const damaged = this.damaged.get(uid);
      if (meta && raw) yield { ...meta, flags: [...meta.flags], size: raw.length, raw, ...(damaged ? { damaged } : {}) };
    }
  }

  async close(): Promise<void> {}
}

/** A UIDVALIDITY (1..2^31-1) that changes whenever `identity` does. */
function generationOf(identity: string): number {
  return (createHash('sha256').update(identity).digest().readUInt32BE(0) & 0x7fffffff) || 1;
}

/** Counters of a folder whose UIDs are 1..messages. */
export function listedStatus(identity: string, messages: number): FolderStatus {
  return { uidValidity: generationOf(identity), uidNext: messages + 1, messages };
}

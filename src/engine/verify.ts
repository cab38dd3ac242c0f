import { headerValue } from '../domain/headers.js';
import { FolderError } from '../errors/errors.js';
import type { MessageMeta } from '../domain/types.js';
import type { FolderHandle } from '../stores/store.js';
import { batches } from './batches.js';
import { sha256 } from './hash.js';
import { canonicalForm } from './server-alteration.js';

/** One message as a verify report names it. */
export interface MessageRef {
  uid: number;
  size: number;
  flags: string[];
  /** INTERNALDATE, epoch seconds. */
  internalDate: number;
  messageId?: string;
  subject?: string;
  /** Absent in quick mode, which never reads bodies. */
  sha256?: string;
  /** SHA-256 of its canonical form (server-alteration.ts), where that differs from the bytes. */
  canonicalSha256?: string;
}

export interface FolderComparison {
  source: string;
  destination: string;
  sourceCount: number;
  destCount: number;
  /** At the source, not at the destination. */
  missing: MessageRef[];
  /** At the destination, not at the source. */
  extra: MessageRef[];
  /** More copies at the destination than at the source: one entry per surplus copy. */
  duplicated: MessageRef[];
  flagDiffs: Array<{ source: MessageRef; dest: MessageRef }>;
  dateDiffs: Array<{ source: MessageRef; dest: MessageRef }>;
  /**
   * At the destination with other bytes its server made on APPEND (server-alteration.ts): the
   * message is there, so this is no difference, but it is listed.
   */
  altered: Array<{ source: MessageRef; dest: MessageRef }>;
  /** The folder could not be read on one side. */
  error?: string;
}

export function isEqual(c: FolderComparison): boolean {
  return !c.error && c.missing.length + c.extra.length + c.duplicated.length + c.flagDiffs.length + c.dateDiffs.length === 0;
}

const READ_BATCH_BYTES = 16 << 20;

/**
 * Reads what verify compares of every message in a folder. Full mode hashes each body (read in
 * bounded batches, then dropped); quick mode reads only metadata and Message-ID.
 */
export async function readFolder(handle: FolderHandle, quick: boolean): Promise<MessageRef[]> {
  const metas = await handle.scan({ messageIds: quick });
  // What a short listing leaves out would read as missing or extra: the folder cannot be compared.
  if (handle.incomplete) throw new FolderError(`${handle.incomplete}; the folder cannot be compared`, 'short-answer');
  if (quick) return metas.map((m) => ref(m));
  const refs: MessageRef[] = [];
  for (const chunk of batches(metas, 500, READ_BATCH_BYTES)) {
    for await (const m of handle.fetch(chunk.map((c) => c.uid))) {
      const canonical = canonicalForm(m.raw);
      refs.push(ref(m, { sha256: sha256(m.raw), ...(canonical !== m.raw ? { canonicalSha256: sha256(canonical) } : {}), messageId: headerValue(m.raw, 'message-id'), subject: headerValue(m.raw, 'subject') }));
    }
  }
  return refs;
}

function ref(m: MessageMeta, extra: Partial<MessageRef> = {}): MessageRef {
  return {
    uid: m.uid,
    size: m.size,
    flags: m.flags.filter((f) => f !== '\\Recent').sort(),
    internalDate: Math.floor(m.internalDate.getTime() / 1000),
    ...(m.messageId ? { messageId: m.messageId } : {}),
    ...extra,
  };
}

/**
 * Compares two folders as multisets. Identity is the SHA-256 of the bytes, or in quick mode
 * (Message-ID, size), with INTERNALDATE joining the key for messages without a Message-ID.
 * Messages of the same identity are paired exactly-equal first; the rest of the pairs report
 * flag or date differences.
 */
export function compareFolder(source: string, destination: string, src: MessageRef[], dst: MessageRef[], quick: boolean): FolderComparison {
  const out: FolderComparison = { source, destination, sourceCount: src.length, destCount: dst.length, missing: [], extra: [], duplicated: [], flagDiffs: [], dateDiffs: [], altered: [] };
  const key = (r: MessageRef): string => (quick ? `${r.messageId ?? `none|${r.internalDate}`}|${r.size}` : r.sha256!);
  const groups = new Map<string, { src: MessageRef[]; dst: MessageRef[] }>();
  const group = (k: string) => groups.get(k) ?? groups.set(k, { src: [], dst: [] }).get(k)!;
  for (const r of src) group(key(r)).src.push(r);
  for (const r of dst) group(key(r)).dst.push(r);

  const same = (a: MessageRef, b: MessageRef): boolean => a.internalDate === b.internalDate && a.flags.join(' ') === b.flags.join(' ');
  for (const g of groups.values()) {
    const restSrc: MessageRef[] = [];
    const restDst = [...g.dst];
    for (const s of g.src) {
      const i = restDst.findIndex((d) => same(s, d));
      if (i >= 0) restDst.splice(i, 1);
      else restSrc.push(s);
    }
    while (restSrc.length > 0 && restDst.length > 0) {
      const s = restSrc.shift()!;
      const d = restDst.shift()!;
      if (s.flags.join(' ') !== d.flags.join(' ')) out.flagDiffs.push({ source: s, dest: d });
      if (s.internalDate !== d.internalDate) out.dateDiffs.push({ source: s, dest: d });
    }
    out.missing.push(...restSrc);
    if (g.src.length > 0) out.duplicated.push(...restDst);
    else out.extra.push(...restDst);
  }
  if (!quick) pairAltered(out);
  return out;
}

/** A missing message and an extra one with the same canonical form are one message its server altered. */
function pairAltered(out: FolderComparison): void {
  const canonical = (r: MessageRef): string => r.canonicalSha256 ?? r.sha256!;
  const extra = new Map<string, MessageRef[]>();
  for (const d of out.extra) extra.set(canonical(d), [...(extra.get(canonical(d)) ?? []), d]);
  const stillMissing: MessageRef[] = [];
  const paired = new Set<MessageRef>();
  for (const s of out.missing) {
    const d = extra.get(canonical(s))?.shift();
    if (!d) {
      stillMissing.push(s);
      continue;
    }
    paired.add(d);
    out.altered.push({ source: s, dest: d });
    if (s.flags.join(' ') !== d.flags.join(' ')) out.flagDiffs.push({ source: s, dest: d });
    if (s.internalDate !== d.internalDate) out.dateDiffs.push({ source: s, dest: d });
  }
  out.missing = stillMissing;
  out.extra = out.extra.filter((d) => !paired.has(d));
}

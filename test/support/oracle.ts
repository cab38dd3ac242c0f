// The verification oracle (correctness.md 3.0): an account becomes a per-folder multiset of
// (sha256 of the bytes, flags, INTERNALDATE), read with EXAMINE and BODY.PEEK[] so that taking
// a snapshot changes nothing, not even \Seen.
import { createHash } from 'node:crypto';
import type { ImapFlow, ListResponse } from 'imapflow';
import type { CorpusMessage } from '../../src/sandbox/corpus.js';
import { connectPlain, type AccountAddress } from '../../src/sandbox/seed.js';

export interface Tuple {
  sha256: string;
  /** sorted, without \Recent (which depends on who looked first, not on the migration) */
  flags: string[];
  /** epoch seconds */
  internalDate: number;
  size: number;
  uid: number;
}

/** Folder path as imapflow decodes it, '/'-separated whatever the server delimiter. */
export type Snapshot = Map<string, Tuple[]>;

export interface SnapshotDiff {
  missing: number;
  extra: number;
  /** the part of `extra` whose hash also exists in `expected`: copies made twice */
  duplicates: number;
  flagMismatch: number;
  dateMismatch: number;
  /** one line per difference, capped at MAX_DETAILS */
  details: string[];
  equal: boolean;
}

const CONNECTIONS = 4;

/** A snapshot made from another (a filtered copy) keeps the other's LIST answer for diffSnapshots' notes. */
export function withListingOf(source: Snapshot, derived: Snapshot): Snapshot {
  const listing = listings.get(source);
  if (listing) listings.set(derived, listing);
  return derived;
}

/** Each snapshot's LIST answer (folder, its flags), to tell a folder missing from it from one listed unselectable. */
const listings = new WeakMap<Snapshot, Map<string, string[]>>();
const MAX_DETAILS = 200;

export async function snapshotAccount(addr: AccountAddress, opts: { folders?: string[] } = {}): Promise<Snapshot> {
  const first = await connectPlain(addr);
  const clients = [first];
  try {
    const all = await first.list();
    const listed = all.filter(isSelectable).map((entry) => ({ key: slashPath(entry), path: entry.path }));
    const wanted = opts.folders && new Set(opts.folders);
    const queue = listed.filter((f) => !wanted || wanted.has(f.key));
    const snapshot: Snapshot = new Map();
    while (clients.length < Math.min(CONNECTIONS, queue.length)) clients.push(await connectPlain(addr));
    await Promise.all(clients.map(async (client) => {
      for (let folder = queue.shift(); folder; folder = queue.shift()) {
        snapshot.set(folder.key, await snapshotFolder(client, folder.path));
      }
    }));
    const sorted: Snapshot = new Map([...snapshot].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    listings.set(sorted, new Map(all.map((entry) => [slashPath(entry), [...entry.flags].sort()])));
    return sorted;
  } finally {
    await Promise.all(clients.map((c) => c.logout().catch(() => c.close())));
  }
}

/** What a snapshot of an account seeded with `messages` must equal (UIDs unknown, so 0). */
export function expectedSnapshot(messages: Iterable<CorpusMessage>): Snapshot {
  const snapshot: Snapshot = new Map();
  for (const m of messages) {
    const tuples = snapshot.get(m.folder) ?? [];
    snapshot.set(m.folder, tuples);
    tuples.push({
      sha256: createHash('sha256').update(m.raw).digest('hex'),
      flags: [...m.flags].sort(),
      internalDate: Math.floor(m.internalDate.getTime() / 1000),
      size: m.raw.length,
      uid: 0,
    });
  }
  return snapshot;
}

async function snapshotFolder(client: ImapFlow, path: string): Promise<Tuple[]> {
  const mailbox = await client.mailboxOpen(path, { readOnly: true });
  const tuples: Tuple[] = [];
  if (mailbox.exists > 0) {
    const query = { uid: true, flags: true, internalDate: true, size: true, source: true };
    for await (const msg of client.fetch('1:*', query, { uid: true })) {
      if (!msg.source || !msg.flags || msg.internalDate === undefined || msg.size === undefined) {
        throw new Error(`incomplete FETCH response for ${path} uid ${msg.uid}`);
      }
      tuples.push({
        sha256: createHash('sha256').update(msg.source).digest('hex'),
        flags: [...msg.flags].filter((f) => f !== '\\Recent').sort(),
        internalDate: Math.floor(new Date(msg.internalDate).getTime() / 1000),
        size: msg.size,
        uid: msg.uid,
      });
    }
  }
  await client.mailboxClose();
  return tuples.sort((a, b) => a.uid - b.uid);
}

function isSelectable(entry: ListResponse): boolean {
  return !entry.flags.has('\\Noselect') && !entry.flags.has('\\NonExistent');
}

function slashPath(entry: ListResponse): string {
  return entry.delimiter && entry.delimiter !== '/' ? entry.path.split(entry.delimiter).join('/') : entry.path;
}

/**
 * Multiset comparison per folder, keyed by sha256. Pairs with the same hash are matched
 * identical-first, and only the leftover pairs count as flag or date mismatches.
 * `folderMap` renames expected folders to where they should be in `actual` (folders mapped
 * together are merged); `ignoreFolders` names are skipped on both sides, before mapping.
 */
export function diffSnapshots(
  expected: Snapshot,
  actual: Snapshot,
  opts: { folderMap?: (srcFolder: string) => string; ignoreFolders?: string[] } = {},
): SnapshotDiff {
  const ignored = new Set(opts.ignoreFolders ?? []);
  const mapped = new Map<string, Tuple[]>();
  for (const [folder, tuples] of expected) {
    if (ignored.has(folder)) continue;
    const target = opts.folderMap ? opts.folderMap(folder) : folder;
    mapped.set(target, [...(mapped.get(target) ?? []), ...tuples]);
  }
  const diff: SnapshotDiff = { missing: 0, extra: 0, duplicates: 0, flagMismatch: 0, dateMismatch: 0, details: [], equal: true };
  const note = (line: string) => {
    if (diff.details.length < MAX_DETAILS) diff.details.push(line);
    else if (diff.details.length === MAX_DETAILS) diff.details.push('... (more differences not listed)');
  };
  const folders = new Set([...mapped.keys(), ...[...actual.keys()].filter((f) => !ignored.has(f))]);
  for (const folder of [...folders].sort()) {
    const listing = listings.get(actual);
    if ((mapped.get(folder)?.length ?? 0) > 0 && !actual.has(folder) && listing) {
      const flags = listing.get(folder);
      note(flags ? `${folder}: listed as not selectable [${flags.join(' ')}]` : `${folder}: not in the listing`);
    }
    diffFolder(folder, mapped.get(folder) ?? [], actual.get(folder) ?? [], diff, note);
  }
  diff.equal = diff.missing + diff.extra + diff.duplicates + diff.flagMismatch + diff.dateMismatch === 0;
  return diff;
}

function diffFolder(folder: string, expected: Tuple[], actual: Tuple[], diff: SnapshotDiff, note: (line: string) => void): void {
  const want = groupByHash(expected);
  const have = groupByHash(actual);
  for (const hash of new Set([...want.keys(), ...have.keys()])) {
    const unmatchedWant = [...(want.get(hash) ?? [])];
    const unmatchedHave = [...(have.get(hash) ?? [])];
    // Identical tuples first, so one flag change is one mismatch, not a cascade.
    for (let i = unmatchedWant.length - 1; i >= 0; i--) {
      const j = unmatchedHave.findIndex((t) => sameState(t, unmatchedWant[i]!));
      if (j >= 0) {
        unmatchedWant.splice(i, 1);
        unmatchedHave.splice(j, 1);
      }
    }
    const pairs = Math.min(unmatchedWant.length, unmatchedHave.length);
    for (let k = 0; k < pairs; k++) {
      const w = unmatchedWant[k]!;
      const h = unmatchedHave[k]!;
      if (w.flags.join(' ') !== h.flags.join(' ')) {
        diff.flagMismatch++;
        note(`${folder}: flags ${hash.slice(0, 12)} uid ${w.uid}->${h.uid}: [${w.flags.join(' ')}] vs [${h.flags.join(' ')}]`);
      }
      if (w.internalDate !== h.internalDate) {
        diff.dateMismatch++;
        note(`${folder}: date ${hash.slice(0, 12)} uid ${w.uid}->${h.uid}: ${iso(w.internalDate)} vs ${iso(h.internalDate)}`);
      }
    }
    for (const w of unmatchedWant.slice(pairs)) {
      diff.missing++;
      note(`${folder}: missing ${hash.slice(0, 12)} uid ${w.uid} size ${w.size}`);
    }
    for (const h of unmatchedHave.slice(pairs)) {
      diff.extra++;
      if (want.has(hash)) diff.duplicates++;
      note(`${folder}: ${want.has(hash) ? 'duplicate' : 'extra'} ${hash.slice(0, 12)} uid ${h.uid} size ${h.size}`);
    }
  }
}

function groupByHash(tuples: Tuple[]): Map<string, Tuple[]> {
  const groups = new Map<string, Tuple[]>();
  for (const t of tuples) {
    const group = groups.get(t.sha256);
    if (group) group.push(t);
    else groups.set(t.sha256, [t]);
  }
  return groups;
}

function sameState(a: Tuple, b: Tuple): boolean {
  return a.internalDate === b.internalDate && a.flags.join(' ') === b.flags.join(' ');
}

function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

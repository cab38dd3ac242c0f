import { UsageError } from '../../errors/errors.js';
import type { MessageMeta } from '../../domain/types.js';
import type { FolderHandle, Store } from '../../stores/store.js';
import { decodeWords } from './mime-decode.js';
import { fieldOf, headerFields, splitHeader } from './mime-parse.js';
import { withFolder } from './browse-source.js';

export interface MessageLine {
  uid: number;
  /** The Date header as written, else the INTERNALDATE (ISO 8601). */
  date: string;
  from: string;
  subject: string;
  size: number;
  flags: string[];
}

export interface MessageListing {
  source: string;
  folder: string;
  /** Messages in the folder (that match the search); `messages` holds the newest `limit` of them. */
  total: number;
  messages: MessageLine[];
}

/** UIDs whose headers one command asks for: a folder of any size is read in pages. */
const PAGE = 500;
const FIELDS = ['date', 'from', 'subject'];

/**
 * One folder's messages, newest (highest UID) first, at most `limit` of them: from each message
 * its Date, From and Subject header fields, size and flags, never its body where the store can
 * read header fields alone (IMAP); a local copy is read from its file.
 */
export async function listMessages(store: Store, folder: string, limit?: number, search?: string): Promise<MessageListing> {
  return withFolder(store, folder, async (handle, info) => {
    const all = (await matching(handle, search)).sort((a, b) => b - a);
    const wanted = limit === undefined ? all : all.slice(0, limit);
    const messages: MessageLine[] = [];
    for (let i = 0; i < wanted.length; i += PAGE) {
      const page = wanted.slice(i, i + PAGE);
      const metas = await withHeaders(handle, await handle.scan({ uids: page, headerFields: FIELDS }));
      messages.push(...metas.sort((a, b) => b.uid - a.uid).map(line));
    }
    return { source: store.label, folder: info.components.join('/'), total: all.length, messages };
  });
}

/** Every UID of the folder, or those the server finds for `search`. */
async function matching(handle: FolderHandle, search: string | undefined): Promise<number[]> {
  if (search === undefined) return (await handle.scan({})).map((m) => m.uid);
  if (!handle.search) throw new UsageError('--search needs an account SOURCE (the server runs the search)');
  return [...new Set(await handle.search(search))];
}

/** Headers the scan did not give (a local store) taken from the messages' own bytes. */
async function withHeaders(handle: FolderHandle, metas: MessageMeta[]): Promise<MessageMeta[]> {
  const missing = metas.filter((m) => !m.header).map((m) => m.uid);
  if (missing.length === 0) return metas;
  const headers = new Map<number, Buffer>();
  for await (const m of handle.fetch(missing)) headers.set(m.uid, splitHeader(m.raw).header);
  return metas.map((m) => (m.header ? m : { ...m, header: headers.get(m.uid) }));
}

function line(m: MessageMeta): MessageLine {
  const fields = m.header ? headerFields(m.header) : [];
  return {
    uid: m.uid,
    date: fieldOf(fields, 'date') ?? m.internalDate.toISOString(),
    from: decodeWords(fieldOf(fields, 'from') ?? ''),
    subject: decodeWords(fieldOf(fields, 'subject') ?? ''),
    size: m.size,
    flags: m.flags,
  };
}

export interface FolderSize {
  /** The folder's levels joined with `/`: what `ls SOURCE FOLDER` takes. */
  name: string;
  messages: number;
  bytes: number;
}

/** Every folder with its message count and size, from each folder's sizes (no message is read). */
export async function listFolderSizes(store: Store): Promise<{ source: string; folders: FolderSize[] }> {
  try {
    await store.connect();
    const folders: FolderSize[] = [];
    for (const f of await store.listFolders()) {
      const handle = await store.openFolder(f.name, 'read');
      try {
        const metas = await handle.scan({});
        folders.push({ name: f.components.join('/'), messages: metas.length, bytes: metas.reduce((a, m) => a + m.size, 0) });
      } finally {
        await handle.close();
      }
    }
    return { source: store.label, folders: folders.sort((a, b) => a.name.localeCompare(b.name)) };
  } finally {
    await store.close();
  }
}

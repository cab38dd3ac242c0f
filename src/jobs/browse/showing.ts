import type { MimeLeaf } from '../../domain/mime-structure.js';
import { UsageError } from '../../errors/errors.js';
import type { FolderHandle, Store } from '../../stores/store.js';
import { decodeCharset, decodeTransfer, decodeWords } from './mime-decode.js';
import { headerFields, parseMime, splitHeader } from './mime-parse.js';
import { noMessage, rawMessage, withFolder } from './browse-source.js';

export interface ShownMessage {
  uid: number;
  /** Header fields, unfolded, encoded words decoded. */
  headers: Array<[string, string]>;
  /** The message's text (the first text/plain leaf that is no attachment, else text/html), decoded. */
  text?: { part: string; type: string; content: string };
  parts: MimeLeaf[];
}

/**
 * A message's headers, its text and the list of its parts. A store that reads parts (IMAP)
 * fetches the structure, the header and the text part only; a local copy is parsed from its bytes.
 */
export async function showMessage(store: Store, folder: string, uid: number): Promise<ShownMessage> {
  return withFolder(store, folder, async (handle, info) => {
    const { header, leaves, body } = await readParts(handle, info.components.join('/'), uid);
    const textLeaf = pickText(leaves);
    const text = textLeaf ? { part: textLeaf.part, type: textLeaf.type, content: decodeCharset(decodeTransfer(await body(textLeaf), textLeaf.encoding), textLeaf.charset) } : undefined;
    const headers = headerFields(header).map(([n, v]): [string, string] => [n, decodeWords(v)]);
    return { uid, headers, ...(text ? { text } : {}), parts: leaves };
  });
}

/** One part's bytes: decoded from its transfer encoding, or as stored with `raw`. */
export async function messagePart(store: Store, folder: string, uid: number, part: string, raw: boolean): Promise<{ leaf: MimeLeaf; bytes: Buffer }> {
  return withFolder(store, folder, async (handle, info) => partOf(handle, info.components.join('/'), uid, part, raw));
}

export async function partOf(handle: FolderHandle, folder: string, uid: number, part: string, raw: boolean): Promise<{ leaf: MimeLeaf; bytes: Buffer }> {
  const { leaves, body } = await readParts(handle, folder, uid, false);
  const leaf = leaves.find((l) => l.part === part);
  if (!leaf) throw new UsageError(`message ${uid} in ${folder} has no part ${part} (its parts: ${leaves.map((l) => l.part).join(', ')})`);
  const encoded = await body(leaf);
  return { leaf, bytes: raw ? encoded : decodeTransfer(encoded, leaf.encoding) };
}

/** The whole message's exact bytes. */
export async function wholeMessage(store: Store, folder: string, uid: number): Promise<Buffer> {
  return withFolder(store, folder, async (handle, info) => rawMessage(handle, info.components.join('/'), uid));
}

interface Parts {
  header: Buffer;
  leaves: MimeLeaf[];
  body: (leaf: MimeLeaf) => Promise<Buffer>;
}

async function readParts(handle: FolderHandle, folder: string, uid: number, withHeader = true): Promise<Parts> {
  if (handle.fetchStructure && handle.fetchSection) {
    const fetchSection = handle.fetchSection.bind(handle);
    const leaves = await handle.fetchStructure(uid);
    if (!leaves) throw noMessage(folder, uid);
    const header = withHeader ? ((await fetchSection(uid, 'HEADER')) ?? Buffer.alloc(0)) : Buffer.alloc(0);
    return { header, leaves, body: async (leaf) => (await fetchSection(uid, leaf.part)) ?? Buffer.alloc(0) };
  }
  const raw = await rawMessage(handle, folder, uid);
  const parsed = parseMime(raw);
  const leaves = parsed.map(({ body: _body, ...leaf }) => leaf);
  return { header: splitHeader(raw).header, leaves, body: async (leaf) => parsed.find((p) => p.part === leaf.part)!.body };
}

function pickText(leaves: readonly MimeLeaf[]): MimeLeaf | undefined {
  const readable = leaves.filter((l) => l.disposition !== 'attachment');
  return readable.find((l) => l.type === 'text/plain') ?? readable.find((l) => l.type === 'text/html');
}

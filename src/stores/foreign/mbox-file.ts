import * as fs from 'node:fs/promises';
import type { MessageMeta } from '../../domain/types.js';
import { fromLineDate } from './from-line.js';
import { ListedFolder, listedStatus } from './listed-folder.js';
import { cutShortReason } from './mbox-cut.js';
import { readMboxMessage } from './mbox-message.js';
import { splitMbox } from './mbox-split.js';

/**
 * An mbox file other programs wrote (mboxo or mboxrd: Thunderbird, mutt, Google Takeout and
 * Vault, list archives), read once through to list its messages. UID n is the n-th message; the
 * INTERNALDATE is the date on its `From_` line, or the file's modification time when that line
 * has none (only possible for the first message). See mbox-message.ts for the bytes and flags.
 */
export async function loadMboxFile(file: string): Promise<ListedFolder> {
  const st = await fs.stat(file);
  const spans = new Map<number, { offset: number; length: number }>();
  const metas: MessageMeta[] = [];
  let last: Buffer | undefined;
  for await (const stored of splitMbox(file)) {
    const message = readMboxMessage(stored.content);
    last = stored.content;
    if (message.pseudo && stored.offset === 0) continue;
    const uid = metas.length + 1;
    spans.set(uid, { offset: stored.offset, length: stored.length });
    metas.push({ uid, size: message.raw.length, flags: message.flags, internalDate: fromLineDate(stored.fromLine) ?? st.mtime });
  }
  // Only the last message can be cut short by a copy that stopped early.
  const cut = last && metas.length > 0 ? cutShortReason(last) : undefined;
  const damaged = new Map(cut ? [[metas.length, `${file}: ${cut}; if it is whole as it is, end the file with a newline`]] : []);
  // Any change to the file (a message added, removed or edited) makes a new generation of UIDs.
  const status = listedStatus(`mbox\n${st.size}\n${st.mtimeMs}`, metas.length);
  return new ListedFolder(status, metas, async (uid) => {
    const span = spans.get(uid)!;
    const handle = await fs.open(file, 'r');
    try {
      const stored = Buffer.alloc(span.length);
      const { bytesRead } = await handle.read(stored, 0, span.length, span.offset);
      if (bytesRead < span.length) return undefined;
      const afterFromLine = stored.indexOf(0x0a) + 1;
      return readMboxMessage(afterFromLine > 0 ? stored.subarray(afterFromLine) : Buffer.alloc(0)).raw;
    } finally {
      await handle.close();
    }
  }, damaged);
}

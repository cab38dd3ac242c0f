import { createHash } from 'node:crypto';
import { UsageError } from '../../errors/errors.js';
import type { Store } from '../../stores/store.js';
import type { RecordedFolders } from './backup-records.js';

export interface CheckProblem {
  folder: string;
  uid: number;
  kind: 'missing' | 'altered' | 'unindexed';
  detail: string;
}

export interface CheckResult {
  backup: string;
  folders: number;
  messages: number;
  /** Whether messages were compared with the checkpoint's SHA-256 (a directory with its `.mailferry`). */
  checkpoint: boolean;
  problems: CheckProblem[];
}

/**
 * Reads every message of a backup and compares it with what was recorded when it was written:
 * the store's own records (an mbox index's SHA-256, a Maildir file's size in its name) and,
 * where the backup has its checkpoint, the SHA-256 of each message and the list of messages
 * written. Read-only.
 */
export async function checkBackup(store: Store, records: RecordedFolders | undefined): Promise<CheckResult> {
  const problems: CheckProblem[] = [];
  let messages = 0;
  try {
    await store.connect();
    const folders = await store.listFolders();
    if (folders.length === 0) throw new UsageError(`${store.label} holds no folder`);
    for (const info of folders) {
      const expected = records?.get(info.name) ?? new Map<number, string>();
      const seen = new Set<number>();
      const handle = await store.openFolder(info.name, 'read');
      try {
        const uids = (await handle.scan({})).map((m) => m.uid);
        for await (const m of handle.fetch(uids)) {
          seen.add(m.uid);
          messages++;
          const sha = expected.get(m.uid);
          if (m.damaged) problems.push({ folder: info.name, uid: m.uid, kind: 'altered', detail: m.damaged });
          else if (records && sha === undefined) problems.push({ folder: info.name, uid: m.uid, kind: 'unindexed', detail: 'no backup run recorded this message' });
          else if (sha !== undefined && createHash('sha256').update(m.raw).digest('hex') !== sha) problems.push({ folder: info.name, uid: m.uid, kind: 'altered', detail: 'its SHA-256 is not the one recorded' });
        }
      } finally {
        await handle.close();
      }
      for (const uid of expected.keys()) {
        if (!seen.has(uid)) problems.push({ folder: info.name, uid, kind: 'missing', detail: 'recorded as backed up, but its file is gone' });
      }
    }
    return { backup: store.label, folders: folders.length, messages, checkpoint: records !== undefined, problems };
  } finally {
    await store.close();
  }
}

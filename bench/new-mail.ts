// New mail for the large account's `update` run: NEW_MESSAGES deterministic text messages spread
// over NEW_FOLDERS of its folders, APPENDed like mail arriving. Taken out again afterwards, so
// every repetition and every tool starts from the same source.
import { generateCorpus } from '../src/sandbox/corpus.js';
import type { DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import type { BenchCorpus } from './corpora.js';
import { mailboxCounts } from './verify.js';
import { NEW_MESSAGES, PASSWORD } from './tool.js';

const NEW_FOLDERS = 10;
const SEED = 100;

export interface NewMail {
  add(): Promise<void>;
  /** expunges whatever arrived since prepareNewMail, even after a failed add() */
  remove(): Promise<void>;
}

/** Notes where new mail will start in `corpus`'s account, so that it can be removed whatever happens. */
export async function prepareNewMail(server: DovecotServer, corpus: BenchCorpus): Promise<NewMail> {
  // Every tenth folder, so the new mail is not all in the first, biggest ones.
  const step = Math.max(1, Math.floor(corpus.folders.length / NEW_FOLDERS));
  const folders = Array.from({ length: NEW_FOLDERS }, (_, k) => corpus.folders[(k * step) % corpus.folders.length]!);
  const uidNext = new Map<string, number>();
  for (const folder of new Set(folders)) {
    const out = await server.doveadm(['mailbox', 'status', '-u', corpus.user, 'uidnext', folder]);
    const m = /uidnext=(\d+)/.exec(out);
    if (!m) throw new Error(`no UIDNEXT for ${corpus.user}/${folder}: ${JSON.stringify(out)}`);
    uidNext.set(folder, Number(m[1]));
  }
  const before = sumCounts(await mailboxCounts(server, corpus.user));
  return {
    async add() {
      const messages = [...generateCorpus({ seed: SEED, messages: NEW_MESSAGES, textHeavy: true, maxSize: 100_000 })].map((m, i) => ({ ...m, folder: folders[i % folders.length]! }));
      await seedAccount({ host: server.host, port: server.port, user: corpus.user, password: PASSWORD }, messages);
      const added = sumCounts(await mailboxCounts(server, corpus.user)) - before;
      if (added !== NEW_MESSAGES) throw new Error(`adding new mail to ${corpus.user}: ${added} messages arrived, not ${NEW_MESSAGES}`);
    },
    async remove() {
      // `N:*` would match a folder's last message even if nothing arrived: only folders that grew.
      for (const [folder, uid] of uidNext) {
        const out = await server.doveadm(['mailbox', 'status', '-u', corpus.user, 'uidnext', folder]);
        if (Number(/uidnext=(\d+)/.exec(out)?.[1]) > uid) await server.doveadm(['expunge', '-u', corpus.user, 'mailbox', folder, 'uid', `${uid}:*`]);
      }
      const left = sumCounts(await mailboxCounts(server, corpus.user));
      if (left !== before) throw new Error(`removing the new mail from ${corpus.user}: ${left} messages left, not ${before}`);
    },
  };
}

function sumCounts(counts: Map<string, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

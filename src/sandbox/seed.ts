// Loads a corpus into an IMAP account with APPEND, so flags and INTERNALDATE are controlled
// (a maildir copy would not set INTERNALDATE). Plaintext without STARTTLS: loopback test servers only.
import { ImapFlow } from 'imapflow';
import type { CorpusFolder, CorpusMessage } from './corpus.js';

export interface AccountAddress {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** One APPEND waits for its tagged OK, so throughput comes from several connections. */
const CONNECTIONS = 4;
/** Messages generated but not yet appended: bounds memory when the corpus is a lazy generator. */
const MAX_QUEUED = 64;
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

export async function seedAccount(
  addr: AccountAddress,
  messages: Iterable<CorpusMessage>,
  opts: { folders?: CorpusFolder[] } = {},
): Promise<{ messages: number; bytes: number }> {
  const clients = await connectAll(addr, CONNECTIONS);
  try {
    const control = clients[0]!;
    const created = new Set<string>(['INBOX']);
    // Parents become real mailboxes too, so the tree is the same on every layout.
    const ensureFolder = async (folder: string) => {
      const parts = folder.split('/');
      for (let depth = 1; depth <= parts.length; depth++) {
        const prefix = parts.slice(0, depth);
        const key = prefix.join('/');
        if (created.has(key.toUpperCase() === 'INBOX' ? 'INBOX' : key)) continue;
        await control.mailboxCreate(prefix); // ALREADYEXISTS (e.g. special-use folders) is fine
        created.add(key);
      }
    };
    for (const f of opts.folders ?? []) await ensureFolder(f.path);

    // Each folder sticks to one connection, so its messages keep the corpus order (and UIDs).
    const laneOfFolder = new Map<string, number>();
    const lanes: Promise<void>[] = clients.map(() => Promise.resolve());
    const queued = new Set<Promise<void>>();
    let queuedBytes = 0;
    let failure: unknown;
    let count = 0;
    let bytes = 0;
    try {
      for (const message of messages) {
        if (failure !== undefined) break;
        await ensureFolder(message.folder);
        let lane = laneOfFolder.get(message.folder);
        if (lane === undefined) {
          lane = laneOfFolder.size % clients.length;
          laneOfFolder.set(message.folder, lane);
        }
        const client = clients[lane]!;
        const task = lanes[lane]!.then(async () => {
          if (failure !== undefined) return;
          const path = message.folder.split('/');
          const res = await client.append(path, message.raw, message.flags, message.internalDate);
          if (!res) throw new Error(`APPEND to ${message.folder} was not sent: connection not authenticated`);
          count++;
          bytes += message.raw.length;
        }).catch((err: unknown) => {
          failure ??= err;
        });
        lanes[lane] = task;
        queued.add(task);
        queuedBytes += message.raw.length;
        void task.then(() => {
          queued.delete(task);
          queuedBytes -= message.raw.length;
        });
        while (queued.size >= MAX_QUEUED || queuedBytes > MAX_QUEUED_BYTES) await Promise.race(queued);
      }
    } catch (err) {
      failure ??= err; // e.g. a refused CREATE: still let queued APPENDs settle before logout
    }
    await Promise.all(lanes);
    if (failure !== undefined) throw failure;
    return { messages: count, bytes };
  } finally {
    await Promise.all(clients.map((c) => c.logout().catch(() => c.close())));
  }
}

/** All or nothing: on a failed login, the connections already open are closed. */
async function connectAll(addr: AccountAddress, count: number): Promise<ImapFlow[]> {
  const settled = await Promise.allSettled(Array.from({ length: count }, () => connectPlain(addr)));
  const clients = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return clients;
  await Promise.all(clients.map((c) => c.logout().catch(() => c.close())));
  throw failed.reason;
}

/** A cleartext connection for loopback test servers (Dovecot treats 127.0.0.1 -> 127.0.0.1 as secure). */
export async function connectPlain(addr: AccountAddress): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: addr.host,
    port: addr.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: addr.user, pass: addr.password },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  return client;
}

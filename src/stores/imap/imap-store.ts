import type { ImapFlow, ListResponse } from 'imapflow';
import { encodePath, getStatusCode, normalizePath } from 'imapflow/lib/tools.js';
import { specialUseByName } from '../../config/profile-special-use.js';
import { asSpecialUse, type FolderInfo, type FolderStatus } from '../../domain/types.js';
import type { CreateFolderOptions, FolderHandle, ScanRange, StorageQuota, Store, StoreCaps } from '../store.js';
import { InterruptedError } from '../../errors/errors.js';
import { classifyImapError, sessionEnded, sessionLost } from './imap-errors.js';
import { openClient, type ImapAccount } from './imap-connection.js';
import { dataOf, ImapFolderHandle, isPlainFull, metaOf, type FirstScan } from './imap-folder.js';
import { FlagDroppingHandle, SeenRestoringHandle } from './quirk-handles.js';
import { ensureUidNext } from './uid-next.js';
import { logOut } from './log-out.js';
import { scanBehindOpening } from './early-scan.js';
import { storageQuota } from './imap-quota.js';
import { ScanMemo } from './scan-memo.js';
import { SharedConnection } from './shared-connection.js';

export interface ServerInfo {
  capabilities: string[];
  /** delimiter null: a flat namespace, without hierarchy. */
  namespace?: { prefix: string; delimiter: string | null };
}

/** Messages whose metadata the scan memo holds at most, all folders together (a few MB). */
const SCANS_KEPT = 20_000;

/** What a small folder's FETCH of bytes sent with its EXAMINE may bring beyond twice the listed size before nothing of it is kept. */
const EARLY_SLACK_BYTES = 1 << 20;

/** How long closing waits for connections still being opened ahead of time. */
const OPENING_GRACE_MS = 2_000;

/** imapflow asks for SIZE only where the server offers STATUS=SIZE (RFC 8438). */
const STATUS_QUERY = { messages: true, uidNext: true, uidValidity: true, highestModseq: true, size: true } as const;

/**
 * An IMAP account as a store. Holds a small pool of connections: each open folder handle owns one
 * connection until it is closed, so no command is ever sent on a connection that is inside
 * another's FETCH, and one connection has one selected folder.
 */
export class ImapStore implements Store {
  private readonly idle: ImapFlow[] = [];
  private readonly waiters: Array<() => void> = [];
  private open = 0;
  private capsValue?: StoreCaps;
  private prefix = '';
  /** The personal namespace (prefix and delimiter) as the server gave it at connect(). */
  private namespace?: ImapFlow['namespace'];
  private closed = false;
  /** Connections being opened ahead of time (`warm`). */
  private readonly opening = new Set<Promise<void>>();
  /** What LIST (or our CREATE) said about each folder, handed to imapflow before a SELECT (see openFolder). */
  private readonly listed = new Map<string, Partial<ListResponse>>();
  /** Every connection open, in use or idle: an interrupt ends them all. */
  private readonly live = new Set<ImapFlow>();
  /** A first run's plan scans each folder it then copies: the second scan is answered from the first. */
  private readonly scans = new ScanMemo(SCANS_KEPT);
  /** The connection a first run's CREATEs and its quota question share, pipelined. */
  private readonly shared = new SharedConnection(() => this.acquire(), (c) => this.release(c));
  /** Whether the server's messages are of their listed sizes: until one is not, big ones are streamed (partial-fetch.ts). */
  private readonly sizes = { exact: true };
  /** Resolves once a login of this account went through: connections opened ahead wait for it. */
  private readonly loggedIn: Promise<void>;
  private markLoggedIn!: () => void;

  constructor(private readonly account: ImapAccount) {
    this.loggedIn = new Promise((resolve) => (this.markLoggedIn = resolve));
    // Closing a connection fails the command under way on it (a download of minutes, an APPEND)
    // at once; what that leaves unsettled, the journal settles on the next run.
    account.signal?.addEventListener('abort', () => {
      for (const c of this.live) c.close();
    }, { once: true });
  }

  get label(): string {
    return this.account.label;
  }

  get caps(): StoreCaps {
    if (!this.capsValue) throw new Error('ImapStore.caps read before connect()');
    return this.capsValue;
  }

  /** Also reopens a store that was closed, so one store can serve a transfer and then a verify. */
  async connect(): Promise<void> {
    this.closed = false;
    const client = await this.acquire();
    this.markLoggedIn();
    const has = (c: string): boolean => client.capabilities.has(c);
    const limit = client.capabilities.get('APPENDLIMIT');
    // The lower of what the server says and what its provider is known to accept.
    const sizes = [typeof limit === 'number' && limit > 0 ? limit : undefined, this.account.provider.maxMessageSize].filter((n): n is number => n !== undefined);
    this.capsValue = {
      returnsUidOnAppend: has('UIDPLUS'),
      appendsMayLandLate: true,
      altersOnAppend: true,
      changedSince: has('CONDSTORE') || has('QRESYNC'),
      maxMessageSize: sizes.length > 0 ? Math.min(...sizes) : undefined,
      labels: has('X-GM-EXT-1'),
      droppedFlags: this.account.provider.dropFlags,
    };
    this.prefix = client.namespace?.prefix ?? '';
    this.namespace = client.namespace;
    this.release(client);
  }

  /** What `--check-login` shows: the capabilities after login (`NAME` or `NAME=VALUE`) and the personal namespace. */
  async serverInfo(): Promise<ServerInfo> {
    return this.withClient('reading its capabilities', async (client) => ({
      capabilities: [...client.capabilities.entries()].map(([name, value]) => (value === true ? name : `${name}=${String(value)}`)),
      namespace: client.namespace ? { prefix: client.namespace.prefix, delimiter: client.namespace.delimiter ?? null } : undefined,
    }));
  }

  async listFolders(): Promise<FolderInfo[]> {
    return this.withClient('listing folders', async (client) => {
      const list = (await client.list({ statusQuery: STATUS_QUERY })).filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'));
      for (const f of list) this.listed.set(f.path, f);
      const folders: FolderInfo[] = list.map((f) => ({
        name: f.path,
        components: this.components(f.path, f.delimiter),
        delimiter: f.delimiter,
        specialUse: markedUse(f),
        // imapflow leaves it unset for a folder LSUB does not mention; a boolean from here on.
        subscribed: f.subscribed === true,
        status: f.status ? toStatus(f.status) : undefined,
      }));
      // A server that marks folders is believed; one that marks none gets the profile's names,
      // not imapflow's guesses, so what counts as Sent is data the user can read and override.
      if (folders.some((f) => f.specialUse)) return folders;
      const byName = specialUseByName(folders, this.account.provider.specialUseNames);
      return folders.map((f) => ({ ...f, specialUse: byName.get(f.name) }));
    });
  }

  /** The quota root of INBOX (GETQUOTAROOT), where the server has QUOTA. */
  async quota(): Promise<StorageQuota | undefined> {
    // Asked while a first run creates its folders: the GETQUOTAROOT goes first, the CREATEs behind it.
    return this.withShared('reading its quota', async (client) => storageQuota(await client.getQuota('INBOX')));
  }

  folderName(components: string[]): string {
    return normalizePath({ namespace: this.namespace } as ImapFlow, components);
  }

  async createFolder(components: string[], options: CreateFolderOptions): Promise<FolderInfo> {
    return this.withShared(`creating folder ${this.folderName(components)}`, async (client) => {
      // imapflow's normalizePath joins the components with the server's delimiter and adds the
      // namespace prefix. The CREATE is sent raw, pipelined behind the other folders' (the engine
      // sends a parent's before its children's, once the parent's is answered): imapflow's
      // mailboxCreate always SUBSCRIBEs (and we would UNSUBSCRIBE again), one or two round trips
      // per folder for nothing. No STATUS either: a folder just created has none worth a round
      // trip, and the engine SELECTs it anyway.
      const path = normalizePath(client, components);
      await createMailbox(client, path);
      // Also where the folder turned out to exist already (made meanwhile, or Dovecot answering
      // ALREADYEXISTS to a folder no listing showed, seen with Maildir++ while other sessions of
      // the user SELECT): it is to be subscribed as the source's is.
      if (options.subscribe) await mailboxCommand(client, 'SUBSCRIBE', path);
      const delimiter = client.namespace?.delimiter ?? '/';
      this.listed.set(path, { path, delimiter, flags: new Set(), listed: true, subscribed: options.subscribe });
      return {
        name: path,
        components: this.components(path, delimiter),
        delimiter,
        specialUse: options.specialUse,
        subscribed: options.subscribe,
      };
    });
  }

  async openFolder(name: string, mode: 'read' | 'write', next?: ScanRange): Promise<FolderHandle> {
    const client = await this.acquire();
    let first: FirstScan | undefined;
    try {
      const { dropFlags, restoreSeenAfterFetch } = this.account.provider;
      this.primeFolderCache(client, name);
      // Putting \Seen back needs a read-write SELECT; every other read is an EXAMINE.
      const readOnly = mode === 'read' && !restoreSeenAfterFetch;
      const limit = this.messageLimit(client);
      // A scan the memo already answers is not asked again; a server with a message limit is scanned in chunks.
      if (readOnly && next && limit === undefined && !this.scans.has(normalizePath(client, name))) first = firstScanBehind(client, next);
      const box = await client.mailboxOpen(name, { readOnly });
      // imapflow resolves to nothing, not an error, on a session the server has just ended.
      if (!box) throw sessionLost(client, this.account.label, `opening ${name}`);
      await ensureUidNext(client, box);
      const handle = new ImapFolderHandle(client, box, this.account.label, (c) => this.release(c), limit, readOnly ? this.scans : undefined, mode === 'read', first, this.sizes);
      if (mode === 'read') return restoreSeenAfterFetch ? new SeenRestoringHandle(handle) : handle;
      return dropFlags.length > 0 ? new FlagDroppingHandle(handle, dropFlags) : handle;
    } catch (err) {
      first?.cancel();
      this.release(client);
      throw this.classify(err, `opening ${name}`, client);
    }
  }

  /**
   * imapflow's SELECT first runs LIST and LSUB for a folder its connection has not listed itself:
   * two round trips per folder opened, only to fill fields of the mailbox object we never read.
   * The store listed (or created) the folder already, so its connection is given that entry.
   */
  private primeFolderCache(client: ImapFlow, name: string): void {
    const entry = this.listed.get(name);
    const cache = (client as unknown as { folders?: Map<string, unknown> }).folders;
    const key = normalizePath(client, name);
    if (entry && cache instanceof Map && !cache.has(key)) cache.set(key, entry);
  }

  /** RFC 9738 MESSAGELIMIT=N, or the provider's known limit: the lower of the two. */
  private messageLimit(client: ImapFlow): number | undefined {
    const advertised = [...client.capabilities.keys()].find((c) => c.startsWith('MESSAGELIMIT='));
    const limits = [advertised ? Number(advertised.slice('MESSAGELIMIT='.length)) : undefined, this.account.provider.maxBatch].filter((n): n is number => !!n && n > 0);
    return limits.length > 0 ? Math.min(...limits) : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    // A short run can end while connections opened ahead are still logging in: they end first
    // (closed as they come, unused), not after the run's log is closed; a login that hangs is not
    // waited for longer than the process waits for its sockets once the run is done (main.ts).
    await settledWithin([...this.opening], OPENING_GRACE_MS);
    const clients = this.idle.splice(0);
    this.open -= clients.length;
    await Promise.all(clients.map(logOut));
  }

  /** As withClient, on the connection that commands sent pipelined share (SharedConnection). */
  private async withShared<T>(doing: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
    return this.shared.use(async (client) => {
      try {
        return await fn(client);
      } catch (err) {
        throw this.classify(err, doing, client);
      }
    });
  }

  private async withClient<T>(doing: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
    const client = await this.acquire();
    try {
      return await fn(client);
    } catch (err) {
      throw this.classify(err, doing, client);
    } finally {
      this.release(client);
    }
  }

  /** Opens connections once a login went through (so a wrong password is tried once): maybe before connect() returns. */
  warm(connections: number): void {
    void this.loggedIn.then(() => this.openAhead(connections));
  }

  private openAhead(connections: number): void {
    const target = Math.min(connections, this.account.connections);
    while (!this.closed && !this.account.signal?.aborted && this.open < target) {
      this.open++;
      // A failure is not this call's to report: the slot is freed, and the worker that needs a
      // connection opens one itself and meets the error there.
      const opening = openClient(this.account).then(
        (client) => {
          this.track(client);
          this.release(client);
        },
        (err: Error) => {
          this.account.logger.debug(`${this.account.label}: opening a connection ahead of time failed: ${err.message}`);
          this.open--;
          this.wake();
        },
      );
      this.opening.add(opening);
      void opening.finally(() => this.opening.delete(opening));
    }
  }

  /** A connection of our own, opened on demand up to `account.connections`. */
  private async acquire(): Promise<ImapFlow> {
    for (;;) {
      const client = this.idle.pop();
      // An idle connection the server said BYE to is still `usable` until imapflow closes it.
      if (client && !sessionEnded(client)) return client;
      if (client) {
        this.open--;
        client.close();
      }
      if (this.open < this.account.connections) {
        this.open++;
        let client: ImapFlow;
        try {
          if (this.account.signal?.aborted) throw new InterruptedError();
          client = await openClient(this.account, this.markLoggedIn);
        } catch (err) {
          this.open--;
          this.wake();
          throw this.account.signal?.aborted ? new InterruptedError() : err;
        }
        this.track(client);
        if (this.account.signal?.aborted) {
          this.release(client);
          throw new InterruptedError();
        }
        return client;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** An interrupt ends every connection open. */
  private track(client: ImapFlow): void {
    this.live.add(client);
    client.once('close', () => this.live.delete(client));
  }

  /** What a failed command means; after an interrupt, whatever failed failed because of it. */
  private classify(err: unknown, doing: string, client?: ImapFlow): Error {
    if (this.account.signal?.aborted) return new InterruptedError();
    return classifyImapError(err, this.account.label, doing, client);
  }

  private release(client: ImapFlow): void {
    if (!sessionEnded(client) && !this.closed && !this.account.signal?.aborted) this.idle.push(client);
    else {
      this.open--;
      client.close();
    }
    this.wake();
  }

  private wake(): void {
    this.waiters.shift()?.();
  }

  /** Hierarchy components without the personal namespace prefix (`INBOX.` on Courier-style servers). */
  private components(path: string, delimiter: string): string[] {
    const rel = this.prefix && path.startsWith(this.prefix) ? path.slice(this.prefix.length) : path;
    return delimiter ? rel.split(delimiter) : [rel];
  }
}

/** imapflow's internal command runner (as multi-append.ts uses it). */
interface RawCommandRunner {
  exec(command: string, attributes: unknown[], options?: { pipelined?: boolean }): Promise<{ next(): void }>;
}

/** CREATE; a folder that exists already (RFC 5530 ALREADYEXISTS) is no error, as imapflow's mailboxCreate has it. */
async function createMailbox(client: ImapFlow, path: string): Promise<void> {
  try {
    await mailboxCommand(client, 'CREATE', path);
  } catch (err) {
    if (getStatusCode((err as { response?: Parameters<typeof getStatusCode>[0] }).response) !== 'ALREADYEXISTS') throw err;
  }
}

/** A command naming one mailbox, sent raw and pipelined (the shared connection's commands). */
async function mailboxCommand(client: ImapFlow, command: 'CREATE' | 'SUBSCRIBE', path: string): Promise<void> {
  const res = await (client as unknown as RawCommandRunner).exec(command, [{ type: 'ATOM', value: encodePath(client, path) }], { pipelined: true });
  res.next();
}

/**
 * The special use the server itself marked (SPECIAL-USE or XLIST), never one imapflow guessed by
 * name; imapflow leaves out uses it does not know (RFC 8457 `\Important`), so those are read from
 * the attributes.
 */
function markedUse(f: ListResponse): FolderInfo['specialUse'] {
  if (f.specialUseSource === 'extension') return asSpecialUse(f.specialUse);
  return [...f.flags].map(asSpecialUse).find((use) => use !== undefined);
}

function toStatus(s: { uidValidity?: bigint; uidNext?: number; messages?: number; highestModseq?: bigint; size?: number }): FolderStatus | undefined {
  if (s.uidValidity === undefined || s.uidNext === undefined || s.messages === undefined) return undefined;
  return {
    uidValidity: Number(s.uidValidity),
    uidNext: s.uidNext,
    messages: s.messages,
    highestModseq: s.highestModseq !== undefined ? s.highestModseq.toString() : undefined,
    ...(s.size !== undefined ? { size: s.size } : {}),
  };
}

/** The scan a first copy starts with, sent right behind the folder's EXAMINE (early-scan.ts), where it is one. */
function firstScanBehind(client: ImapFlow, next: ScanRange): FirstScan | undefined {
  if (next.withBodies) {
    // Room for a few messages delivered since the listing; past it the folder is read as usual.
    const scan = scanBehindOpening(client, { bodies: { keepBytes: 2 * next.withBodies.size + EARLY_SLACK_BYTES }, keep: dataOf });
    return scan && { bodies: true, ...scan };
  }
  if (!isPlainFull(next)) return undefined;
  const scan = scanBehindOpening(client, { keep: metaOf });
  return scan && { bodies: false, ...scan };
}

/** Resolves once every promise is settled, or after `ms`, whichever comes first. */
async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.allSettled(promises), late]);
  clearTimeout(timer);
}

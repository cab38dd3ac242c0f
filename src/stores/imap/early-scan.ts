import { createRequire } from 'node:module';
import type { FetchMessageObject, ImapFlow, MailboxObject } from 'imapflow';
import { pipeliningApplied } from './imapflow-pipeline.js';
import { FolderError } from '../../errors/errors.js';
import { classifyImapError, isServerRefusal } from './imap-errors.js';

/**
 * A folder's first full scan, asked for in the same round trip as the EXAMINE that opens it: the
 * `UID FETCH 1:*` a first copy starts with, pipelined behind the EXAMINE instead of sent once it
 * is answered (a round trip per folder: 0.1 s to a server 100 ms away). For a small folder it
 * brings the messages' bytes along (`ScanRange.withBodies`).
 *
 * The answer means what the same FETCH sent after the EXAMINE would: the server answers the two
 * in order. The folder handle still judges it as it would have judged the FETCH's: a scan short
 * of EXAMINE's count is asked again, and bytes are used only where EXAMINE shows the folder as
 * listed. As a FETCH with bytes leaves before anyone saw EXAMINE's counts, what it keeps is
 * bounded by the caller (the listing's size, with room for messages that arrived since); past
 * the bound it keeps nothing, and the folder is read the usual way.
 */
export interface EarlyScan<T> {
  /** The answer; never rejects. */
  readonly answer: Promise<EarlyAnswer<T>>;
  /** The opening failed before its EXAMINE was sent: nothing is asked. */
  cancel(): void;
}

/**
 * The messages, once each, by UID; or `unusable` where the answer cannot be used (the server
 * refused the FETCH, it brought more than the bound, it was never sent); or the failure of the
 * connection it went on, or a refusal that says more than no (`refusedAlone`).
 */
export type EarlyAnswer<T> = { messages: T[] } | { unusable: true } | { failed: unknown };

export interface EarlyScanOptions<T> {
  /** The messages' bytes too (BODY.PEEK[]), at most `keepBytes` of them. */
  bodies?: { keepBytes: number };
  /** What is kept of each message the answer gives, as it arrives; undefined: not a message row. */
  keep(m: FetchMessageObject): T | undefined;
}

const UNUSABLE = { unusable: true } as const;

const require = createRequire(import.meta.url);
const tools = require('imapflow/lib/tools.js') as {
  formatMessageResponse(untagged: unknown, mailbox: MailboxObject, idHashAlgorithm: unknown, connection: unknown): Promise<FetchMessageObject>;
};

interface Internals {
  exec(command: string, attributes: unknown[], options?: object): Promise<{ next(): void }>;
  mailbox: MailboxObject | false;
  enabled: Set<string>;
  capabilities: Map<string, unknown>;
  idHashAlgorithm: unknown;
}

/** Asks for every message of the folder the client's next EXAMINE opens, right behind it. */
export function scanBehindOpening<T extends { uid: number }>(client: ImapFlow, options: EarlyScanOptions<T>): EarlyScan<T> | undefined {
  if (!pipeliningApplied) return undefined;
  const inner = client as unknown as Internals & { exec: Internals['exec'] };
  const exec = inner.exec;
  let settle!: (answer: EarlyAnswer<T>) => void;
  const answer = new Promise<EarlyAnswer<T>>((resolve) => (settle = resolve));
  const restore = (): void => {
    if (inner.exec === hooked) delete (inner as Partial<Internals>).exec;
  };
  // The FETCH must be queued in the same tick as the EXAMINE, before anything else can be.
  const hooked: Internals['exec'] = function (this: unknown, command, attributes, execOptions) {
    const answered = exec.call(this, command, attributes, execOptions);
    if (command === 'EXAMINE' || command === 'SELECT') {
      restore();
      fetchAll(inner, options).then(settle, (err: unknown) => settle(refusedAlone(err) ? UNUSABLE : { failed: err }));
    }
    return answered;
  };
  inner.exec = hooked;
  return {
    answer,
    cancel: () => {
      if (inner.exec !== hooked) return;
      restore();
      settle(UNUSABLE);
    },
  };
}

async function fetchAll<T extends { uid: number }>(client: Internals, options: EarlyScanOptions<T>): Promise<EarlyAnswer<T>> {
  const kept = new Map<number, T>();
  let bytes = 0;
  let over = false;
  const answer = await client.exec('UID FETCH', [{ type: 'SEQUENCE', value: '1:*' }, query(client, !!options.bodies)], {
    pipelined: true,
    untagged: {
      FETCH: async (untagged: unknown) => {
        // Answers come after the EXAMINE's, once imapflow has made its folder the selected one.
        if (over || !client.mailbox) return;
        const m = await tools.formatMessageResponse(untagged, client.mailbox, client.idHashAlgorithm, client);
        if (options.bodies) {
          bytes += m.source?.length ?? 0;
          if (bytes > options.bodies.keepBytes) {
            over = true;
            kept.clear();
            return;
          }
        }
        const row = options.keep(m);
        if (row !== undefined && !kept.has(row.uid)) kept.set(row.uid, row);
      },
    },
  });
  answer.next();
  return over ? UNUSABLE : { messages: [...kept.values()].sort((a, b) => a.uid - b.uid) };
}

/**
 * The server refused this FETCH and nothing more: the folder is read the usual way. A refusal
 * that says more (throttling, a backend down, a full account) fails the scan as the same FETCH
 * sent later would, so the run pauses as told instead of asking again at once.
 */
function refusedAlone(err: unknown): boolean {
  return isServerRefusal(err) && classifyImapError(err, '', 'scanning') instanceof FolderError;
}

/** What imapflow's fetch() asks for imap-folder.ts's scan (and BODY_QUERY), on a folder with mod-sequences. */
function query(client: Internals, bodies: boolean): unknown[] {
  const atom = (value: string) => ({ type: 'ATOM', value });
  const items: unknown[] = [atom('UID'), atom('FLAGS'), atom('INTERNALDATE'), atom('RFC822.SIZE')];
  if (bodies) items.push({ type: 'ATOM', value: 'BODY.PEEK', section: [] });
  if (client.capabilities.has('OBJECTID')) items.push(atom('EMAILID'));
  else if (client.capabilities.has('X-GM-EXT-1')) items.push(atom('X-GM-MSGID'));
  if (client.capabilities.has('X-GM-EXT-1')) items.push(atom('X-GM-LABELS'));
  // A folder without mod-sequences (EXAMINE's NOMODSEQ) refuses this; it is then scanned the usual way.
  if (client.enabled.has('CONDSTORE')) items.push(atom('MODSEQ'));
  return items;
}

import { createRequire } from 'node:module';
import type { FetchMessageObject, ImapFlow, MailboxObject } from 'imapflow';
import { pipeliningApplied } from './imapflow-pipeline.js';
import { isServerRefusal } from './imap-errors.js';

/**
 * A small folder's messages, asked for in the same round trip as the EXAMINE that opens it: the
 * `UID FETCH 1:*` of a first copy's scan with bodies (`ScanRange.withBodies`), pipelined behind
 * the EXAMINE instead of sent once it is answered (0.1 s per small folder to a server 100 ms away).
 *
 * The answer is only a candidate: the folder handle uses it where EXAMINE shows the folder as
 * listed, as it would have decided before sending the FETCH, and asks again otherwise. As the
 * FETCH leaves before anyone saw EXAMINE's counts, the bytes it keeps are bounded by the caller
 * (the listing's size, with room for a message or two that arrived since); past the bound it
 * keeps nothing, and the folder is scanned and fetched the usual way.
 */
export interface EarlyBodies {
  /** The answer; never rejects. */
  readonly rows: Promise<EarlyAnswer>;
  /** The opening failed before its EXAMINE was sent: nothing is asked. */
  cancel(): void;
}

/**
 * The messages; or `unusable` where the answer cannot be used (the server refused the FETCH, it
 * brought more than the bound, it was never sent); or the failure of the connection it went on.
 */
export type EarlyAnswer = { messages: FetchMessageObject[] } | { unusable: true } | { failed: unknown };

const UNUSABLE: EarlyAnswer = { unusable: true };

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

/** Asks for every message of the folder the client's next EXAMINE opens, right behind it; keeps at most `keepBytes`. */
export function bodiesBehindOpening(client: ImapFlow, keepBytes: number): EarlyBodies | undefined {
  if (!pipeliningApplied) return undefined;
  const inner = client as unknown as Internals & { exec: Internals['exec'] };
  const exec = inner.exec;
  let settle!: (answer: EarlyAnswer) => void;
  const rows = new Promise<EarlyAnswer>((resolve) => (settle = resolve));
  const restore = (): void => {
    if (inner.exec === hooked) delete (inner as Partial<Internals>).exec;
  };
  // The FETCH must be queued in the same tick as the EXAMINE, before anything else can be.
  const hooked: Internals['exec'] = function (this: unknown, command, attributes, options) {
    const answer = exec.call(this, command, attributes, options);
    if (command === 'EXAMINE' || command === 'SELECT') {
      restore();
      fetchAll(inner, keepBytes).then(settle, (err: unknown) => settle(isServerRefusal(err) ? UNUSABLE : { failed: err }));
    }
    return answer;
  };
  inner.exec = hooked;
  return {
    rows,
    cancel: () => {
      if (inner.exec !== hooked) return;
      restore();
      settle(UNUSABLE);
    },
  };
}

async function fetchAll(client: Internals, keepBytes: number): Promise<EarlyAnswer> {
  const kept: FetchMessageObject[] = [];
  let bytes = 0;
  let over = false;
  const answer = await client.exec('UID FETCH', [{ type: 'SEQUENCE', value: '1:*' }, bodyQuery(client)], {
    pipelined: true,
    untagged: {
      FETCH: async (untagged: unknown) => {
        // Answers come after the EXAMINE's, once imapflow has made its folder the selected one.
        if (over || !client.mailbox) return;
        const m = await tools.formatMessageResponse(untagged, client.mailbox, client.idHashAlgorithm, client);
        bytes += m.source?.length ?? 0;
        if (bytes > keepBytes) {
          over = true;
          kept.length = 0;
        } else kept.push(m);
      },
    },
  });
  answer.next();
  return over ? UNUSABLE : { messages: kept };
}

/** What imapflow's fetch() asks for `imap-folder.ts`'s BODY_QUERY, on a folder with mod-sequences. */
function bodyQuery(client: Internals): unknown[] {
  const atom = (value: string) => ({ type: 'ATOM', value });
  const items: unknown[] = [atom('UID'), atom('FLAGS'), atom('INTERNALDATE'), atom('RFC822.SIZE'), { type: 'ATOM', value: 'BODY.PEEK', section: [] }];
  if (client.capabilities.has('OBJECTID')) items.push(atom('EMAILID'));
  else if (client.capabilities.has('X-GM-EXT-1')) items.push(atom('X-GM-MSGID'));
  if (client.capabilities.has('X-GM-EXT-1')) items.push(atom('X-GM-LABELS'));
  // A folder without mod-sequences (EXAMINE's NOMODSEQ) refuses this; it is then scanned the usual way.
  if (client.enabled.has('CONDSTORE')) items.push(atom('MODSEQ'));
  return items;
}

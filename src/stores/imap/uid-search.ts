import type { ImapFlow } from 'imapflow';
import { UsageError } from '../../errors/errors.js';
import { isServerRefusal, refusalText } from './imap-errors.js';
import { needsUtf8, parseSearchCriteria, type SearchToken } from './search-criteria.js';

/** imapflow's internal command runner, which its own commands use; typed for what we need. */
interface RawCommandRunner {
  exec(command: string, attributes: unknown[], options?: object): Promise<{ next(): void }>;
}
interface UntaggedSearch {
  numbers?: number[];
  attributes?: Array<{ value?: unknown }>;
}

/**
 * UID SEARCH with the user's criteria as given (imapflow's own search takes only its object
 * form). Non-ASCII criteria go with CHARSET UTF-8, as literals, or as plain UTF-8 where the
 * session enabled UTF8=ACCEPT (RFC 6855). A server's NO or BAD is the user's criteria refused:
 * a usage error quoting the server.
 */
export async function uidSearch(client: ImapFlow, criteria: string, folder: string): Promise<number[]> {
  const tokens = parseSearchCriteria(criteria, { gmail: true });
  const gmail = tokens.some((t) => t.type === 'atom' && t.value.toUpperCase() === 'X-GM-RAW');
  if (gmail && !client.capabilities.has('X-GM-EXT-1')) {
    throw new UsageError('--gmail-search: the source server is not Gmail (it does not offer X-GM-EXT-1)');
  }
  const utf8Session = client.enabled.has('UTF8=ACCEPT');
  const charset = needsUtf8(tokens) && !utf8Session ? [{ type: 'ATOM', value: 'CHARSET' }, { type: 'ATOM', value: 'UTF-8' }] : [];
  const found: number[] = [];
  try {
    const res = await (client as unknown as RawCommandRunner).exec('UID SEARCH', [...charset, ...tokens.map((t) => attribute(t, utf8Session))], {
      untagged: {
        SEARCH: async (untagged: UntaggedSearch | undefined) => {
          if (untagged?.numbers) found.push(...untagged.numbers);
          else for (const a of untagged?.attributes ?? []) found.push(Number(a.value));
        },
      },
    });
    res.next();
  } catch (err) {
    // X-GM-RAW "query" alone is two tokens: --gmail-search without --search.
    const option = !gmail ? '--search' : tokens.length === 2 ? '--gmail-search' : '--search with --gmail-search';
    if (isServerRefusal(err)) throw new UsageError(`${option} refused by the server in ${folder}: ${refusalText(err)}`);
    throw err;
  }
  return found.filter((u) => Number.isInteger(u) && u > 0);
}

function attribute(t: SearchToken, utf8Session: boolean): unknown {
  if (t.type === 'list') return t.items.map((i) => attribute(i, utf8Session));
  const ascii = !/[^\x00-\x7f]/.test(t.value);
  if (t.type === 'atom' && ascii) return /^[\d*:,]+$/.test(t.value) ? { type: 'SEQUENCE', value: t.value } : { type: 'ATOM', value: t.value };
  // A quoted string is 7-bit (RFC 3501); 8-bit text goes as a literal unless UTF-8 was enabled.
  if (ascii || utf8Session) return { type: 'STRING', value: t.value };
  return { type: 'LITERAL', value: Buffer.from(t.value, 'utf8') };
}

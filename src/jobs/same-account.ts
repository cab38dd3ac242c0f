import { lookup } from 'node:dns/promises';
import { isLoopback } from '../config/account-url.js';

/**
 * Whether the account a checkpoint or a backup directory names (`recorded`, a store label such as
 * `imap://alice@mail.example:143`) is the one this run reaches (`current`).
 *
 * The same user on a server that may be the same one, reached another way (another port or
 * scheme, the host's address instead of its name, a tunnel or port forward on this machine), is
 * accepted, with a notice: the UIDs a checkpoint records count only under each folder's unchanged
 * UIDVALIDITY, and messages are matched by content at the destination, so none is copied twice.
 * A different user, a label that is not an IMAP account, or two hosts that share no address
 * (different servers) are refused.
 */
export async function matchAccount(recorded: string, current: string, what: string): Promise<AccountMatch> {
  if (recorded === current) return { kind: 'equal' };
  const was = parseLabel(recorded);
  const now = parseLabel(current);
  if (!was || !now) return { kind: 'refused', why: '' };
  if (was.user !== now.user) return { kind: 'refused', why: ': a different user' };
  if (!(await maybeSameServer(was.host, now.host))) return { kind: 'refused', why: `: ${was.host} and ${now.host} are different servers` };
  return {
    kind: 'reached-another-way',
    notice: `${what} was made for ${recorded}; using it for ${current}, the same user on what may be the same server reached another way (messages are matched by content, so none is copied twice)`,
  };
}

export type AccountMatch = { kind: 'equal' } | { kind: 'reached-another-way'; notice: string } | { kind: 'refused'; why: string };

interface AccountLabel {
  user: string;
  host: string;
}

function parseLabel(label: string): AccountLabel | undefined {
  const m = /^imaps?:\/\/([^@]*)@(\[[^\]]+\]|[^:/]+):\d+$/.exec(label);
  if (!m) return undefined;
  try {
    return { user: decodeURIComponent(m[1]!), host: m[2]!.replace(/^\[|\]$/g, '').toLowerCase() };
  } catch {
    return undefined;
  }
}

/**
 * The same name, a name and one of its addresses, or two names that share an address. A loopback
 * host is this machine's end of a tunnel or port forward, which may lead to any server.
 */
async function maybeSameServer(a: string, b: string): Promise<boolean> {
  if (a === b || isLoopback(a) || isLoopback(b)) return true;
  const [ofA, ofB] = await Promise.all([addresses(a), addresses(b)]);
  return ofA.some((address) => ofB.includes(address));
}

async function addresses(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true })).map((r) => r.address);
  } catch {
    return [];
  }
}

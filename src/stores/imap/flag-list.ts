/**
 * A message's flags as a scan keeps them, for as long as its folder is copied (a 71,000-message
 * INBOX: all of them at once). Each name is one shared string: imapflow's parser makes every
 * message's "\Seen" anew (64,000 copies, 1.5 MB of a 200k migration's heap). The array is made at
 * its exact length: one grown by `push` or `filter` reserves room for 17 (150 bytes for one flag).
 * \Recent is left out: it is the server's to set, and no APPEND may set it.
 */
export function flagList(flags: ReadonlySet<string> | undefined): string[] {
  if (!flags || flags.size === 0) return [];
  const out = new Array<string>(flags.has('\\Recent') ? flags.size - 1 : flags.size);
  let i = 0;
  for (const flag of flags) if (flag !== '\\Recent') out[i++] = shared(flag);
  return out;
}

const names = new Map<string, string>();
/** Names shared at most: a server that invents a keyword per message cannot grow the table without end. */
const MAX_NAMES = 1000;

function shared(flag: string): string {
  const known = names.get(flag);
  if (known !== undefined) return known;
  if (names.size < MAX_NAMES) names.set(flag, flag);
  return flag;
}

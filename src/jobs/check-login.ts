import type { Side, Sides } from '../domain/types.js';
import type { StderrLogger } from '../reporting/logger.js';
import type { ImapStore, ServerInfo } from '../stores/imap/imap-store.js';
import { plainImapStore, type ConnectionPolicy, type ImapSideSpec } from './imap-side.js';

export interface LoginCheck extends ServerInfo {
  side: Side;
  account: string;
}

/**
 * `migrate --check-login` (imapsync's --justlogin): logs in to both accounts and reads what each
 * server offers; nothing is listed, opened or written. Both logins are tried, at once, so one run
 * tells about both sides; a side that failed comes back as its error (authentication: exit 3,
 * unreachable or TLS: exit 4), the source's first.
 */
export async function checkLogin(accounts: Sides<ImapSideSpec>, policy: ConnectionPolicy, logger: StderrLogger): Promise<{ checks: LoginCheck[]; failure?: unknown }> {
  const sides: Side[] = ['source', 'dest'];
  // Passwords are resolved one side after the other: two prompts at once would interleave.
  const stores: ImapStore[] = [];
  for (const side of sides) stores.push(await plainImapStore(side, accounts[side], { ...policy, connections: 1 }, logger));
  const outcomes = await Promise.allSettled(
    stores.map(async (store, i): Promise<LoginCheck> => {
      try {
        await store.connect();
        return { side: sides[i]!, account: store.label, ...(await store.serverInfo()) };
      } finally {
        await store.close();
      }
    }),
  );
  const checks = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  return { checks, failure: failed?.reason };
}

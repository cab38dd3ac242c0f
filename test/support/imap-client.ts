import type { ImapFlow } from 'imapflow';
import { connectPlain, type AccountAddress } from '../../src/sandbox/seed.js';

/** Runs `fn` on a plain loopback session of `addr` (a test's own look at, or change to, an account), logged out afterwards. */
export async function withImapClient<T>(addr: AccountAddress, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = await connectPlain(addr);
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}

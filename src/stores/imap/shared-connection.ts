import type { ImapFlow } from 'imapflow';

/**
 * One pooled connection shared by commands that are sent pipelined (imapflow-pipeline.ts): the
 * first user takes it from the pool, later ones join while any is under way, and the last to
 * finish gives it back. A first run's CREATEs go this way, each level of the hierarchy in one
 * round trip, where one connection per CREATE took one round trip each and four server processes
 * of the same user wrote its mailbox list at once; the quota question asked meanwhile goes along
 * instead of holding a connection of its own for a round trip before the CREATEs.
 */
export class SharedConnection {
  private lease?: { client: Promise<ImapFlow>; users: number };

  constructor(
    private readonly acquire: () => Promise<ImapFlow>,
    private readonly release: (client: ImapFlow) => void,
  ) {}

  async use<T>(fn: (client: ImapFlow) => Promise<T>): Promise<T> {
    const lease = (this.lease ??= { client: this.acquire(), users: 0 });
    lease.users++;
    let client: ImapFlow | undefined;
    try {
      client = await lease.client;
      return await fn(client);
    } finally {
      if (--lease.users === 0) {
        if (this.lease === lease) this.lease = undefined;
        if (client) this.release(client);
      }
    }
  }
}

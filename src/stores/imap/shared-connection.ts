import type { ImapFlow } from 'imapflow';

/**
 * One pooled connection shared by commands that are sent pipelined (imapflow-pipeline.ts): the
 * first user takes it from the pool, later ones join while any is under way, and it goes back
 * once the last has finished and no other joined by then (the same turn of the event loop, where
 * a child folder's CREATE follows its parent's answer). A first run's CREATEs go this way, each
 * level of the hierarchy in one round trip, where one connection per CREATE took one round trip
 * each and four server processes of the same user wrote its mailbox list at once; the quota
 * question asked meanwhile goes along instead of holding a connection of its own for a round trip
 * before the CREATEs. Workers opening folders meanwhile get the other connections, and with one
 * connection wait for the CREATEs to be done.
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
    try {
      return await fn(await lease.client);
    } finally {
      lease.users--;
      if (lease.users === 0) setImmediate(() => this.giveBack(lease));
    }
  }

  private giveBack(lease: { client: Promise<ImapFlow>; users: number }): void {
    if (lease.users > 0 || this.lease !== lease) return;
    this.lease = undefined;
    // A lease whose connection never opened has nothing to give back.
    lease.client.then(this.release, () => undefined);
  }
}

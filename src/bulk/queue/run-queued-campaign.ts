import { UsageError } from '../../errors/errors.js';
import type { CampaignSnapshot } from '../account-status.js';
import type { BulkAccount, BulkCommand } from '../bulk-account.js';
import type { BulkDisplay } from '../bulk-display.js';
import { CampaignProgress } from '../campaign-progress.js';
import type { QueueAddress } from './queue-address.js';
import { QueueScheduler } from './queue-scheduler.js';
import { RedisStatusStore } from './redis-status-store.js';

export interface QueuedCampaignRequest {
  command: BulkCommand;
  list: string;
  accounts: BulkAccount[];
  address: QueueAddress;
  queueName: string;
  /** The options every account runs with, as the single command takes them: no secret, no sign-in. */
  options: Record<string, unknown>;
  retries: number;
  signal: AbortSignal;
  display: (progress: CampaignProgress) => BulkDisplay;
}

/**
 * Runs a campaign distributed: enqueues its accounts for `mailferry worker` processes and follows
 * the status they write (in the same Redis) until every account is done or failed for good.
 * Returns the final snapshot, the same table the embedded mode gives.
 */
export async function runQueuedCampaign(req: QueuedCampaignRequest): Promise<CampaignSnapshot> {
  const store = RedisStatusStore.open(req.address, req.queueName);
  try {
    const held = await store.claim({ command: req.command, list: req.list });
    if (held.command !== req.command) {
      throw new UsageError(`the queue ${req.queueName} at ${req.address.label} holds a bulk ${held.command} campaign; give this one another --queue-name`);
    }
    const progress = new CampaignProgress(req.accounts.length);
    const display = req.display(progress);
    try {
      const scheduler = new QueueScheduler({
        address: req.address,
        queueName: req.queueName,
        command: req.command,
        options: req.options,
        retries: req.retries,
        store,
        signal: req.signal,
        events: (e) => {
          progress.apply(e);
          display.event(e);
        },
      });
      await scheduler.run(req.accounts);
    } finally {
      display.stop();
    }
    return await store.snapshot();
  } finally {
    await store.close();
  }
}

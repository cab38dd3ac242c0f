import type { QuotaResponse } from 'imapflow';
import type { StorageQuota } from '../store.js';

/**
 * The STORAGE resource of a QUOTA response (imapflow gives it in bytes), or undefined: no QUOTA
 * capability (imapflow's `false`), no STORAGE resource, or no limit on it.
 */
export function storageQuota(response: QuotaResponse | false | undefined): StorageQuota | undefined {
  const storage = response ? response.storage : undefined;
  if (!storage || typeof storage.limit !== 'number' || storage.limit <= 0) return undefined;
  return { usedBytes: storage.usage ?? 0, limitBytes: storage.limit };
}

import { createHash } from 'node:crypto';
import type { BulkCommand } from './bulk-account.js';

/**
 * An account's key when its row gives no `id`: the command and the account pair (as normalized by
 * the list reader), hashed, so the same list gives the same keys on every run and machine, and a
 * key is safe as a file name.
 */
export function accountKey(command: BulkCommand, from: string, to: string): string {
  return `${command}-${createHash('sha256').update(`${from}\n${to}`).digest('hex').slice(0, 16)}`;
}

import * as path from 'node:path';
import type { BulkAccount, BulkCommand } from './bulk-account.js';

/** `accounts.csv` -> `accounts.status.sqlite`, beside the list. */
export function defaultStatusFile(list: string): string {
  const parsed = path.parse(path.resolve(list));
  return path.join(parsed.dir, `${parsed.name}.status.sqlite`);
}

/** `accounts.csv` -> `accounts.report/`, beside the list: where each run writes report.json, .csv and .html. */
export function defaultReportDir(list: string): string {
  const parsed = path.parse(path.resolve(list));
  return path.join(parsed.dir, `${parsed.name}.report`);
}

/** The directory of the accounts' own checkpoints and logs: the status file's name with `.d` for `.sqlite`. */
export function accountsDir(statusFile: string): string {
  return `${statusFile.replace(/\.sqlite$/, '')}.d`;
}

/**
 * An account's own files: its log in the accounts directory, and its checkpoint there too for
 * migrate (a backup keeps its checkpoint inside the backup, as a single backup does).
 */
export function accountFiles(command: BulkCommand, dir: string): (account: BulkAccount) => { checkpoint: string; log: string } {
  return (account) => ({
    checkpoint: command === 'migrate' ? path.join(dir, `${account.key}.sqlite`) : path.join(account.to, '.mailferry', 'state.sqlite'),
    log: path.join(dir, `${account.key}.log`),
  });
}

import type { Options } from 'yargs';
import { DEFAULT_QUEUE_NAME } from '../../bulk/queue/account-job.js';
import { bulkSecretOptions } from '../../bulk/secrets/options.js';
import { backupOptions } from './backup.js';
import { migrateOptions } from './migrate.js';

/**
 * Options of the single command that do not apply to every row of a list alike: the accounts
 * (from the list), --state (each account has its own checkpoint), the printing modes, the password
 * commands (run as is, one command would give every row the same password), --*-authzid (it would open one mailbox for
 * every row: --*-admin is its bulk form), --archive/--keep (one archive name for every backup), --oversize-dir (one directory
 * for the saved messages of every account), --log-file (each account has its own log).
 */
const NOT_PER_RUN = new Set([
  'from', 'to', 'state', 'json', 'quiet', 'dry-run', 'check-login', 'just-folders',
  'from-password-command', 'to-password-command', 'from-authzid', 'to-authzid', 'archive', 'keep', 'oversize-dir', 'log-file',
]);

const perRun = (table: Record<string, Options>): Record<string, Options> => Object.fromEntries(Object.entries(table).filter(([name]) => !NOT_PER_RUN.has(name)));

export const bulkStatusFileOption: Record<string, Options> = {
  status: { type: 'string', group: 'Bulk:', describe: "the campaign's status file (default: LIST's name with .status.sqlite, beside it; per-account checkpoints and logs go in the directory of the same name with .d)" },
};

/** Where a distributed campaign's queue and status live (docs/bulk.md, "Distributed mode"). */
export const queueOptions: Record<string, Options> = {
  queue: { type: 'string', group: 'Distributed:', describe: 'redis://HOST[:PORT][/DB]: a Redis shared with `mailferry worker` processes (password: $MAILFERRY_QUEUE_PASSWORD)' },
  'queue-name': { type: 'string', default: DEFAULT_QUEUE_NAME, group: 'Distributed:', describe: "the queue's name in that Redis (one campaign per name)" },
};

const reportDirOption: Record<string, Options> = {
  'report-dir': { type: 'string', group: 'Bulk:', describe: "where report.json, report.csv and report.html go (default: LIST's name with .report, beside it)" },
};

/** Admin login for every row: what --*-authzid is for one account. */
export function adminOption(word: 'from' | 'to'): Record<string, Options> {
  return {
    [`${word}-admin`]: {
      type: 'string', group: 'Bulk:',
      describe: `log in as this user (an administrator, e.g. a Dovecot master user) with its password ($MAILFERRY_${word.toUpperCase()}_PASSWORD or --${word}-password-file), opening each row's user's mailbox (SASL PLAIN authorization identity)`,
    },
  };
}

const bulkOwnOptions: Record<string, Options> = {
  ...reportDirOption,
  parallel: { type: 'number', default: 4, group: 'Bulk:', describe: 'accounts run at once' },
  'max-per-host': { type: 'number', group: 'Bulk:', describe: 'at most this many accounts at once against one server host (default: no cap beyond --parallel and the profiles\' connectionsPerHost)' },
  retries: { type: 'number', default: 3, group: 'Bulk:', describe: 'retries of an account that failed with a transient cause (connection, timeout, BYE, throttling), with exponential backoff' },
  ...bulkStatusFileOption,
  'allow-passwords-in-list': { type: 'boolean', default: false, group: 'Bulk:', describe: 'accept from_password/to_password columns (the list file must be mode 0600)' },
  json: { type: 'boolean', default: false, group: 'Bulk:', describe: 'print the campaign status (as bulk status --json) on stdout at the end' },
  quiet: { type: 'boolean', default: false, alias: 'q', group: 'Bulk:', describe: 'no progress, only warnings and errors' },
  ...queueOptions,
};

/** The per-account secret sources of one side or both (a backup has no destination account). */
export const sideSecretOptions = (words: ReadonlyArray<'from' | 'to'>): Record<string, Options> =>
  Object.fromEntries(Object.entries(bulkSecretOptions).filter(([name]) => words.some((w) => name.startsWith(`${w}-`))));

export const bulkMigrateOptions: Record<string, Options> = { ...perRun(migrateOptions), ...adminOption('from'), ...adminOption('to'), ...sideSecretOptions(['from', 'to']), ...bulkOwnOptions };
export const bulkBackupOptions: Record<string, Options> = { ...perRun(backupOptions), ...adminOption('from'), ...sideSecretOptions(['from']), ...bulkOwnOptions };

export const bulkStatusOptions: Record<string, Options> = {
  ...bulkStatusFileOption,
  json: { type: 'boolean', default: false, group: 'Bulk:', describe: 'print the campaign (every account, throughput samples) and its totals as JSON' },
  failed: { type: 'boolean', default: false, group: 'Bulk:', describe: 'only the failed accounts, with their error lines' },
  'report-dir': { type: 'string', group: 'Bulk:', describe: 'also write report.json, report.csv and report.html of the campaign as it is now into this directory' },
  ...queueOptions,
};

/** Which options of a bulk run a worker's job carries: the per-run ones, without any sign-in (each worker has its own). */
export const JOB_OPTION_NAMES: ReadonlySet<string> = new Set(
  [...Object.keys(perRun(migrateOptions)), ...Object.keys(perRun(backupOptions))].filter((name) => !/^(from|to)-(password-file|oauth2|oauth2-token-command)$/.test(name)),
);

/** Each subcommand's table, for option-values.ts (which binds `--option -value` pairs). */
export const BULK_TABLES: Readonly<Record<string, Record<string, Options>>> = { migrate: bulkMigrateOptions, backup: bulkBackupOptions, status: bulkStatusOptions };

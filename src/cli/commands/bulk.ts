import type { Argv, CommandModule } from 'yargs';
import type { BulkCommand } from '../../bulk/bulk-account.js';
import type { CliContext } from '../context.js';
import { bulkBackupOptions, bulkMigrateOptions, bulkStatusOptions } from './bulk-options.js';

export interface BulkRunArgs extends BulkSignInArgs {
  list: string;
  status?: string;
  parallel: number;
  'max-per-host'?: number;
  retries: number;
  'allow-passwords-in-list': boolean;
  queue?: string;
  'queue-name': string;
  'report-dir'?: string;
  json: boolean;
  quiet: boolean;
  debug: boolean;
  connections: number;
  'profile-file'?: string;
  'from-profile'?: string;
  'to-profile'?: string;
  [option: string]: unknown;
}

/** How every account of a campaign signs in when no per-account source is given: `bulk` and `worker` alike. */
export interface BulkSignInArgs {
  'from-password-file'?: string;
  'to-password-file'?: string;
  'from-oauth2-token-command'?: string;
  'to-oauth2-token-command'?: string;
  'from-oauth2'?: string;
  'to-oauth2'?: string;
  'from-admin'?: string;
  'to-admin'?: string;
}

export interface BulkStatusArgs {
  list?: string;
  status?: string;
  queue?: string;
  'queue-name': string;
  'report-dir'?: string;
  json: boolean;
  failed: boolean;
}

/** One example per command, so that each runs as shown (test/cli/help-examples.test.ts). */
function runExample(command: BulkCommand): [string, string] {
  return command === 'migrate'
    ? ['MAILFERRY_FROM_PASSWORD=... MAILFERRY_TO_PASSWORD=... $0 bulk migrate accounts.csv --parallel 8', 'run (or resume) the migration of every account pair of accounts.csv']
    : ['MAILFERRY_FROM_PASSWORD=... $0 bulk backup backups.csv --parallel 8', 'back up (or resume backing up) every account of backups.csv into its directory'];
}

function bulkRunCommand(command: BulkCommand, ctx: CliContext): CommandModule {
  const what = command === 'migrate' ? 'migrate every account pair of LIST (columns from, to: account URLs)' : 'back up every account of LIST (columns from: account URL, to: directory)';
  return {
    command: `${command} <list>`,
    describe: `${what}, resumable: a rerun rechecks the done accounts, retries the failed ones, resumes the interrupted ones`,
    builder: (y: Argv) =>
      y
        .positional('list', { type: 'string', describe: 'the account list: a .csv file with a header row, or a .yaml/.yml file' })
        .options(command === 'migrate' ? bulkMigrateOptions : bulkBackupOptions)
        .example(...runExample(command)),
    handler: async (raw) => {
      const argv = raw as unknown as BulkRunArgs;
      ctx.debug = argv.debug;
      const { bulkRun } = await import('../bulk-run.js');
      await bulkRun(command, argv, ctx);
    },
  };
}

function bulkStatusCommand(ctx: CliContext): CommandModule {
  return {
    command: 'status [list]',
    describe: "print a campaign's accounts (state, attempts, messages, bytes, duration, last error) and totals",
    builder: (y: Argv) =>
      y
        .positional('list', { type: 'string', describe: 'the account list, to find its default status file' })
        .options(bulkStatusOptions)
        .example('$0 bulk status accounts.csv', 'where the campaign of accounts.csv is: every account and the totals')
        .example('$0 bulk status accounts.csv --failed', 'the failed accounts of the campaign of accounts.csv, with their errors'),
    handler: async (raw) => {
      const { bulkStatus } = await import('../bulk-status.js');
      await bulkStatus(raw as unknown as BulkStatusArgs, ctx);
    },
  };
}

/** bulk's subcommands, in --help's order (scripts/build-man.mjs reads them too). */
export function bulkSubcommands(ctx: CliContext): CommandModule[] {
  return [bulkRunCommand('migrate', ctx), bulkRunCommand('backup', ctx), bulkStatusCommand(ctx)];
}

export function bulkCommand(ctx: CliContext): CommandModule {
  return {
    command: 'bulk',
    describe: 'migrate or back up many accounts from one list (CSV or YAML), here or on workers sharing a Redis queue, with a status, reports, retries and resume',
    builder: (y: Argv) =>
      bulkSubcommands(ctx)
        .reduce((chain, sub) => chain.command(sub), y)
        .demandCommand(1, 'name a bulk command: migrate, backup or status'),
    handler: () => {},
  };
}

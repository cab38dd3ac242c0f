import type { Argv, CommandModule, Options } from 'yargs';
import type { CliContext } from '../context.js';
import { bulkSecretOptions, type BulkSecretArgs } from '../../bulk/secrets/options.js';
import { adminOption, queueOptions } from './bulk-options.js';
import type { BulkSignInArgs } from './bulk.js';

/** How a worker's accounts sign in: its own, never the queue's (docs/bulk.md, "Distributed mode"). */
const workerSignInOptions: Record<string, Options> = Object.fromEntries(
  (['from', 'to'] as const).flatMap((word) => [
    [`${word}-password-file`, { type: 'string', group: 'Sign-in:', describe: `one password for every --${word} account (an administrator's, with the server's master-user login), from a file of mode 0600` }],
    [`${word}-oauth2-token-command`, { type: 'string', group: 'Sign-in:', describe: `a command printing an OAuth2 access token for the --${word} accounts` }],
    [`${word}-oauth2`, { type: 'string', group: 'Sign-in:', describe: `OAuth2 with the sign-ins saved by mailferry login (PROFILE: each account's own user)` }],
  ]),
);

export const workerOptions = {
  ...queueOptions,
  queue: { ...queueOptions.queue, demandOption: true },
  parallel: { type: 'number', default: 4, group: 'Worker:', describe: 'accounts run at once by this worker' },
  'state-dir': { type: 'string', group: 'Worker:', describe: "where this worker keeps each account's checkpoint and log (default: $XDG_STATE_HOME/mailferry/worker; share it between workers for cheap takeovers)" },
  'lock-duration': { type: 'number', default: 30, group: 'Worker:', describe: 'seconds after which the account of a worker that died (kill -9, power loss) is taken over by another' },
  ...workerSignInOptions,
  ...adminOption('from'),
  ...adminOption('to'),
  ...bulkSecretOptions,
  quiet: { type: 'boolean', default: false, alias: 'q', group: 'Worker:', describe: 'only warnings and errors' },
  debug: { type: 'boolean', default: false, group: 'Worker:', describe: 'log the IMAP conversation (passwords redacted) in the accounts\' logs' },
} satisfies Record<string, Options>;

export interface WorkerArgs extends BulkSecretArgs, BulkSignInArgs {
  queue: string;
  'queue-name': string;
  parallel: number;
  'state-dir'?: string;
  'lock-duration': number;
  quiet: boolean;
  debug: boolean;
}

export function workerCommand(ctx: CliContext): CommandModule {
  return {
    command: 'worker',
    describe: 'take accounts from a distributed bulk campaign (bulk migrate|backup --queue) and run them, until SIGTERM or Ctrl-C',
    builder: (y: Argv) =>
      y
        .options(workerOptions)
        .example('MAILFERRY_FROM_PASSWORD=... MAILFERRY_TO_PASSWORD=... $0 worker --queue redis://queue.example:6379 --parallel 8', 'run accounts of the queue on this machine'),
    handler: async (raw) => {
      const argv = raw as unknown as WorkerArgs;
      ctx.debug = argv.debug;
      const { bulkWorker } = await import('../bulk-worker.js');
      await bulkWorker(argv, ctx);
    },
  };
}

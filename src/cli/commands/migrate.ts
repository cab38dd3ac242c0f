import type { Argv, CommandModule } from 'yargs';
import { runReported } from '../reported-run.js';
import type { CliContext } from '../context.js';
import { connectionPolicy } from '../connection-policy.js';
import { profiledSides, type SideArgs } from './side-args.js';
import { parseTraffic, trafficOptions, type TrafficArgs } from '../traffic-options.js';
import {
  accountOptions, concurrencyOption, connectionOptions, filterOptions, parseFilter, parseSelection, positiveInt, gmailLabelsOption, profileFileOption, runOptions, selectionOptions, signInOptions,
} from '../options.js';

export const migrateOptions = {
  ...accountOptions('from', 'source'),
  ...signInOptions('from'),
  ...gmailLabelsOption,
  ...accountOptions('to', 'destination'),
  ...signInOptions('to'),
  ...selectionOptions,
  ...filterOptions,
  'sync-flags': { type: 'boolean', default: true, group: 'Messages:', describe: 'carry flag changes of copied messages to the destination on reruns (--no-sync-flags: off)' },
  'oversize-dir': { type: 'string', group: 'Messages:', describe: 'save messages too large for the destination as .eml files here (0600) instead of only listing them' },
  verify: { type: 'boolean', default: false, group: 'Run:', describe: 'after the transfer, compare both accounts (as mailferry verify does); differences exit 1' },
  ...trafficOptions,
  ...connectionOptions,
  ...profileFileOption,
  ...runOptions,
  ...concurrencyOption,
} as const;

type MigrateArgs = SideArgs & TrafficArgs & {
  connections: number; timeout: number; 'sync-flags': boolean; verify: boolean; 'dry-run': boolean; json: boolean; quiet: boolean; debug: boolean;
  state?: string; 'allow-concurrent': boolean; 'oversize-dir'?: string; folder?: string[]; exclude?: string[]; map?: string[]; since?: string; before?: string; 'max-size'?: number;
};

export function migrateCommand(ctx: CliContext): CommandModule {
  return {
    command: 'migrate',
    describe: 'copy every folder and message of one IMAP account into another, exactly once, resumable',
    builder: (y: Argv) =>
      y
        .options(migrateOptions)
        .example('MAILFERRY_FROM_PASSWORD=... MAILFERRY_TO_PASSWORD=... $0 migrate --from imaps://alice%40old.example@imap.old.example --to imaps://alice@imap.new.example', 'move an account')
        .example('$0 migrate --from ... --to ... --folder INBOX --since 2024-01-01 --dry-run', 'preview one folder'),
    handler: async (raw) => {
      const { migrate } = await import('../../jobs/migrate.js');
      const argv = raw as unknown as MigrateArgs;
      ctx.debug = argv.debug;
      await runReported(ctx, argv, async (emit) => {
        const { specs, run } = profiledSides(
          argv,
          { connections: positiveInt(argv.connections, 'connections'), selection: parseSelection(argv), traffic: parseTraffic(argv) },
          (line) => ctx.logger.info(line),
        );
        return migrate({
          accounts: specs,
          policy: connectionPolicy(argv, run.connections, ctx),
          selection: run.selection,
          filter: parseFilter(argv),
          traffic: run.traffic,
          oversizeDir: argv['oversize-dir'],
          syncFlags: argv['sync-flags'],
          statePath: argv.state,
          allowConcurrent: argv['allow-concurrent'],
          dryRun: argv['dry-run'],
          verify: argv.verify,
          logger: ctx.logger,
          emit,
          signal: ctx.signal,
        });
      });
    },
  };
}

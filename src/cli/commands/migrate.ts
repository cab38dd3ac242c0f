import type { Argv, CommandModule } from 'yargs';
import type { MigrateRequest } from '../../jobs/migrate.js';
import type { JobIo } from '../job-io.js';
import { runReported } from '../reported-run.js';
import { withLogFile } from '../log-file.js';
import type { CliContext } from '../context.js';
import { connectionPolicy } from '../connection-policy.js';
import { profiledSides, type SideArgs } from './side-args.js';
import { checkLoginMode, justFoldersMode } from './migrate-modes.js';
import { parseTraffic, trafficOptions, type TrafficArgs } from '../traffic-options.js';
import {
  accountOptions, concurrencyOption, connectionOptions, filterOptions, searchOptions, parseErrorsMax, parseFilter, parseTreeSelection, positiveInt, gmailLabelsOption, profileFileOption, runOptions, testOnlyOptions, selectionOptions, signInOptions, treeOptions,
} from '../options.js';

export const migrateOptions = {
  ...accountOptions('from', 'source'),
  ...signInOptions('from'),
  ...gmailLabelsOption,
  ...accountOptions('to', 'destination'),
  ...signInOptions('to'),
  ...selectionOptions,
  ...treeOptions,
  ...filterOptions,
  ...searchOptions,
  'sync-flags': { type: 'boolean', default: true, group: 'Messages:', describe: 'carry flag changes of copied messages to the destination on reruns (--no-sync-flags: off)' },
  'oversize-dir': { type: 'string', group: 'Messages:', describe: 'save messages too large for the destination as .eml files here (0600) instead of only listing them' },
  'propagate-deletes': { type: 'boolean', default: false, group: 'Messages:', describe: 'cutover: remove at the destination the messages this checkpoint copied that are gone from the source since (deleted or moved; needs UIDPLUS)' },
  verify: { type: 'boolean', default: false, group: 'Run:', describe: 'after the transfer, compare both accounts (as mailferry verify does); differences exit 1' },
  'errors-max': { type: 'number', group: 'Run:', describe: 'stop once this many messages have failed (exit 8); a rerun retries them and resumes' },
  'just-folders': { type: 'boolean', default: false, group: 'Run:', describe: 'only create the destination folders (as mapped), copy no message; lists what was created' },
  'check-login': { type: 'boolean', default: false, group: 'Run:', describe: 'only log in to both accounts and print the capabilities and namespace of each that matter; exit 3 or 4 when a login fails' },
  ...trafficOptions,
  ...connectionOptions,
  ...profileFileOption,
  ...runOptions,
  ...concurrencyOption,
} as const;

export type MigrateArgs = SideArgs & TrafficArgs & {
  connections: number; timeout: number; recursive: boolean; into?: string; 'sync-flags': boolean; 'propagate-deletes': boolean; 'errors-max'?: number; 'just-folders': boolean; 'check-login': boolean; verify: boolean; 'dry-run': boolean; json: boolean; quiet: boolean; debug: boolean; 'log-file'?: string;
  state?: string; 'allow-concurrent': boolean; 'oversize-dir'?: string; folder?: string[]; exclude?: string[]; map?: string[]; since?: string; before?: string; 'max-size'?: number; 'min-size'?: number; search?: string; 'gmail-search'?: string;
};

export function migrateCommand(ctx: CliContext): CommandModule {
  return {
    command: 'migrate',
    describe: 'copy every folder and message of one IMAP account into another, exactly once, resumable',
    builder: (y: Argv) =>
      y
        .options(migrateOptions)
        .options(testOnlyOptions)
        .example('MAILFERRY_FROM_PASSWORD=... MAILFERRY_TO_PASSWORD=... $0 migrate --from imaps://alice%40old.example@imap.old.example --to imaps://alice@imap.new.example', 'move an account')
        .example('$0 migrate --from ... --to ... --folder INBOX --since 2024-01-01 --dry-run', 'preview one folder')
        .example("$0 migrate --from ... --to ... --map '^Work/(.*)$=Old/$1' --since 1y", "the last year's mail, Work's subfolders under Old")
        .example('$0 migrate --from ... --to ... --into Imported', 'the whole account under the folder Imported')
        .example('$0 migrate --from ... --to ... --check-login', 'check both logins and what each server offers')
        .example('$0 migrate --from ... --to ... --propagate-deletes', 'cutover: copy what is new, remove what was deleted or moved at the source'),
    handler: async (raw) => {
      const argv = raw as unknown as MigrateArgs;
      ctx.debug = argv.debug;
      await withLogFile(ctx, argv['log-file'], async () => {
        if (argv['check-login']) {
          const { specs, run } = migrateSides(argv, ctx);
          return checkLoginMode(ctx, argv.json, specs, connectionPolicy(argv, run.connections, ctx));
        }
        if (argv['just-folders']) {
          const { specs, run } = migrateSides(argv, ctx);
          return justFoldersMode(ctx, argv.json, specs, connectionPolicy(argv, run.connections, ctx), run.selection, argv['dry-run']);
        }
        const { migrate } = await import('../../jobs/migrate.js');
        await runReported(ctx, argv, async (emit) => migrate(migrateRequest(argv, { ...ctx, emit })));
      });
    },
  };
}

function migrateSides(argv: MigrateArgs, io: Pick<JobIo, 'logger'>): ReturnType<typeof profiledSides> {
  return profiledSides(
    argv,
    { connections: positiveInt(argv.connections, 'connections'), selection: parseTreeSelection(argv), traffic: parseTraffic(argv) },
    (line) => io.logger.info(line),
  );
}

/** The migrate job as these options ask for it; the library API builds it the same way. */
export function migrateRequest(argv: MigrateArgs, io: JobIo): MigrateRequest {
  const { specs, run } = migrateSides(argv, io);
  return {
    accounts: specs,
    policy: connectionPolicy(argv, run.connections, io),
    selection: run.selection,
    filter: parseFilter(argv),
    traffic: run.traffic,
    oversizeDir: argv['oversize-dir'],
    syncFlags: argv['sync-flags'],
    statePath: argv.state,
    allowConcurrent: argv['allow-concurrent'],
    dryRun: argv['dry-run'],
    verify: argv.verify,
    errorsMax: parseErrorsMax(argv),
    propagateDeletes: argv['propagate-deletes'],
    logger: io.logger,
    emit: io.emit,
    signal: io.signal,
  };
}

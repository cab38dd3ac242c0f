import type { Argv, CommandModule, Options } from 'yargs';
import { UsageError } from '../../errors/errors.js';
import type { FolderSelection } from '../../engine/folder-map.js';
import { runReported } from '../reported-run.js';
import type { CliContext } from '../context.js';
import { connectionPolicy } from '../connection-policy.js';
import { profiledSides, type SideArgs } from './side-args.js';
import { parseTraffic, trafficOptions, type TrafficArgs } from '../traffic-options.js';
import {
  accountOptions, concurrencyOption, connectionOptions, filterOptions, parseFilter, parseSelection, positiveInt, profileFileOption, runOptions, selectionOptions, signInOptions,
} from '../options.js';

/** The source is a local file: nothing is downloaded, so there is no download cap. */
const restoreTrafficOptions: Record<string, Options> = Object.fromEntries(Object.entries(trafficOptions).filter(([name]) => name !== 'daily-limit-down'));

export const restoreOptions = {
  from: {
    type: 'string', demandOption: true, group: 'Source:',
    describe: 'what to restore: a backup directory, a .tar.gz/.tgz/.zip archive of one, a Maildir tree, or an mbox file or a directory of them',
  },
  ...accountOptions('to', 'destination'),
  ...signInOptions('to'),
  ...selectionOptions,
  recursive: { type: 'boolean', default: false, group: 'Folders:', describe: 'with --folder: also restore the subfolders of each folder named' },
  into: { type: 'string', group: 'Folders:', describe: "put the restored folders under this destination folder, with / between levels, e.g. 'Restored/2026-11-25'" },
  ...filterOptions,
  verify: { type: 'boolean', default: false, group: 'Run:', describe: 'after the restore, compare the restored folders with the backup (as mailferry verify does); differences exit 1' },
  ...restoreTrafficOptions,
  ...connectionOptions,
  ...profileFileOption,
  ...runOptions,
  ...concurrencyOption,
} as const;

type RestoreArgs = SideArgs & TrafficArgs & {
  connections: number; timeout: number; verify: boolean; recursive: boolean; into?: string; 'dry-run': boolean; json: boolean; quiet: boolean; debug: boolean;
  state?: string; 'allow-concurrent': boolean; folder?: string[]; exclude?: string[]; map?: string[]; since?: string; before?: string; 'max-size'?: number;
};

export function restoreCommand(ctx: CliContext): CommandModule {
  return {
    command: 'restore',
    describe: 'restore a backup (whole or single folders), an archive of one, or Maildir/mbox mail into an IMAP account, exactly once, resumable',
    builder: (y: Argv) =>
      y
        .options(restoreOptions)
        .example('MAILFERRY_TO_PASSWORD=... $0 restore --from ~/mail-backup --to imaps://me@imap.new.example', 'restore a whole backup')
        .example("$0 restore --from mail-2026-11-25.tar.gz --to ... --folder Work --recursive --into 'Restored/2026-11-25'", 'one folder tree from an archive, beside the live one')
        .example('$0 restore --from Takeout/Mail/All\\ mail\\ Including\\ Spam\\ and\\ Trash.mbox --to ... --into Gmail', 'a Google Takeout export'),
    handler: async (raw) => {
      const { restore } = await import('../../jobs/restore.js');
      const argv = raw as unknown as RestoreArgs;
      ctx.debug = argv.debug;
      await runReported(ctx, argv, async (emit) => {
        const { specs, run } = profiledSides(
          argv,
          { connections: positiveInt(argv.connections, 'connections'), selection: restoreSelection(argv), traffic: parseTraffic(argv) },
          (line) => ctx.logger.info(line),
        );
        return restore({
          sides: specs,
          policy: connectionPolicy(argv, run.connections, ctx),
          selection: run.selection,
          filter: parseFilter(argv),
          traffic: run.traffic,
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

/** --folder/--exclude/--map plus restore's --recursive and --into. */
function restoreSelection(argv: RestoreArgs): FolderSelection {
  const selection = parseSelection(argv);
  if (argv.recursive && selection.include.length === 0) throw new UsageError('--recursive needs --folder: it adds the subfolders of the folders named');
  if (argv.into === undefined) return { ...selection, recursive: argv.recursive };
  const into = argv.into.split('/').filter((level) => level.length > 0);
  if (into.length === 0) throw new UsageError(`--into ${JSON.stringify(argv.into)}: give a folder name, e.g. 'Restored'`);
  if (selection.map.length > 0) throw new UsageError('--into and --map exclude each other: --into keeps every folder\'s own path under the prefix');
  return { ...selection, recursive: argv.recursive, into };
}

import type { Argv, CommandModule, Options } from 'yargs';
import type { RestoreRequest } from '../../jobs/restore.js';
import type { JobIo } from '../job-io.js';
import { runReported } from '../reported-run.js';
import { withLogFile } from '../log-file.js';
import type { CliContext } from '../context.js';
import { connectionPolicy } from '../connection-policy.js';
import { profiledSides, type SideArgs } from './side-args.js';
import { parseTraffic, trafficOptions, type TrafficArgs } from '../traffic-options.js';
import {
  accountOptions, concurrencyOption, connectionOptions, filterOptions, parseErrorsMax, parseFilter, parseTreeSelection, positiveInt, profileFileOption, runOptions, testOnlyOptions, selectionOptions, signInOptions, treeOptions,
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
  ...treeOptions,
  ...filterOptions,
  verify: { type: 'boolean', default: false, group: 'Run:', describe: 'after the restore, compare the restored folders with the backup (as mailferry verify does); differences exit 1' },
  'errors-max': { type: 'number', group: 'Run:', describe: 'stop once this many messages have failed (exit 8); a rerun retries them and resumes' },
  ...restoreTrafficOptions,
  ...connectionOptions,
  ...profileFileOption,
  ...runOptions,
  ...concurrencyOption,
} as const;

export type RestoreArgs = SideArgs & TrafficArgs & {
  connections: number; timeout: number; verify: boolean; recursive: boolean; 'errors-max'?: number; into?: string; 'dry-run': boolean; json: boolean; quiet: boolean; debug: boolean; 'log-file'?: string;
  state?: string; 'allow-concurrent': boolean; folder?: string[]; exclude?: string[]; map?: string[]; since?: string; before?: string; 'max-size'?: number; 'min-size'?: number;
};

export function restoreCommand(ctx: CliContext): CommandModule {
  return {
    command: 'restore',
    describe: 'restore a backup (whole or single folders), an archive of one, or Maildir/mbox mail into an IMAP account, exactly once, resumable',
    builder: (y: Argv) =>
      y
        .options(restoreOptions)
        .options(testOnlyOptions)
        .example('MAILFERRY_TO_PASSWORD=... $0 restore --from ~/mail-backup --to imaps://me@imap.new.example', 'restore a whole backup')
        .example("$0 restore --from mail-2026-11-25.tar.gz --to ... --folder Work --recursive --into 'Restored/2026-11-25'", 'one folder tree from an archive, beside the live one')
        .example('$0 restore --from Takeout/Mail/All\\ mail\\ Including\\ Spam\\ and\\ Trash.mbox --to ... --into Gmail', 'a Google Takeout export'),
    handler: async (raw) => {
      const { restore } = await import('../../jobs/restore.js');
      const argv = raw as unknown as RestoreArgs;
      ctx.debug = argv.debug;
      await withLogFile(ctx, argv['log-file'], () => runReported(ctx, argv, async (emit) => restore(restoreRequest(argv, { ...ctx, emit }))));
    },
  };
}

/** The restore job as these options ask for it; the library API builds it the same way. */
export function restoreRequest(argv: RestoreArgs, io: JobIo): RestoreRequest {
  const { specs, run } = profiledSides(
    argv,
    { connections: positiveInt(argv.connections, 'connections'), selection: parseTreeSelection(argv), traffic: parseTraffic(argv) },
    (line) => io.logger.info(line),
  );
  return {
    sides: specs,
    policy: connectionPolicy(argv, run.connections, io),
    selection: run.selection,
    filter: parseFilter(argv),
    traffic: run.traffic,
    statePath: argv.state,
    allowConcurrent: argv['allow-concurrent'],
    dryRun: argv['dry-run'],
    verify: argv.verify,
    errorsMax: parseErrorsMax(argv),
    logger: io.logger,
    emit: io.emit,
    signal: io.signal,
  };
}

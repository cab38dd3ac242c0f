import type { Argv, CommandModule, Options } from 'yargs';
import type { BackupRequest } from '../../jobs/backup.js';
import type { JobIo } from '../job-io.js';
import { runReported } from '../reported-run.js';
import { withLogFile } from '../log-file.js';
import type { MaildirLayout } from '../../stores/local/folder-path.js';
import type { BackupFormat } from '../../stores/local/manifest.js';
import type { CliContext } from '../context.js';
import { connectionPolicy } from '../connection-policy.js';
import { parseTraffic, trafficOptions, type TrafficArgs } from '../traffic-options.js';
import {
  accountOptions, connectionOptions, filterOptions, searchOptions, gmailLabelsOption, parseFilter, parseSelection, positiveInt, profileFileOption, runOptions, testOnlyOptions, selectionOptions, signInOptions,
} from '../options.js';
import { profiledSource, type SourceArgs } from './side-args.js';

const without = (table: Record<string, Options>, name: string): Record<string, Options> => Object.fromEntries(Object.entries(table).filter(([n]) => n !== name));
/** A backup's checkpoint is always `<DIR>/.mailferry/state.sqlite`, so migrate's --state does not apply. */
const backupRunOptions = without(runOptions, 'state');
/** Nothing is uploaded: the destination is a local directory. */
const backupTrafficOptions = without(trafficOptions, 'daily-limit-up');

export const backupOptions = {
  ...accountOptions('from', 'source'),
  ...signInOptions('from'),
  ...gmailLabelsOption,
  to: { type: 'string', demandOption: true, group: 'Backup:', describe: 'backup directory (created if missing; must be empty or an earlier backup of the same account)' },
  format: { type: 'string', choices: ['maildir', 'mbox'], group: 'Backup:', describe: 'maildir (default) or mbox, for a new backup; an existing one keeps its format' },
  layout: { type: 'string', choices: ['maildir++', 'fs'], group: 'Backup:', describe: "Maildir folders as Dovecot's default maildir++ (.Name.Sub, the default) or fs (nested directories)" },
  archive: { type: 'string', group: 'Backup:', describe: "after the run, pack the backup into this .tar.gz or .zip, {date} becoming YYYY-MM-DD, e.g. 'mail-{date}.tar.gz'" },
  keep: { type: 'number', group: 'Backup:', describe: 'with --archive: delete all but the N newest archives that match the pattern' },
  mirror: { type: 'boolean', default: false, group: 'Backup:', describe: 'remove from the backup the messages deleted on the server (never from the server)' },
  ...selectionOptions,
  ...filterOptions,
  ...searchOptions,
  ...backupTrafficOptions,
  ...connectionOptions,
  ...profileFileOption,
  ...backupRunOptions,
} as const;

export type BackupArgs = SourceArgs & TrafficArgs & {
  to: string; format?: BackupFormat; layout?: MaildirLayout; archive?: string; keep?: number; mirror: boolean;
  connections: number; timeout: number;
  'dry-run': boolean; json: boolean; quiet: boolean; debug: boolean; 'log-file'?: string;
  folder?: string[]; exclude?: string[]; map?: string[]; since?: string; before?: string; 'max-size'?: number; 'min-size'?: number; search?: string; 'gmail-search'?: string;
};

export function backupCommand(ctx: CliContext): CommandModule {
  return {
    command: 'backup',
    describe: 'back up an IMAP account into a Maildir or mbox directory, incrementally and crash-safe, optionally archived',
    builder: (y: Argv) =>
      y
        .options(backupOptions)
        .options(testOnlyOptions)
        .example("MAILFERRY_FROM_PASSWORD=... $0 backup --from imaps://me@imap.example.com --to ~/mail-backup", 'back up (or update the backup of) an account')
        .example("$0 backup --from ... --to ~/mail-backup --archive '/srv/archives/mail-{date}.tar.gz' --keep 14", 'nightly, keeping two weeks of archives'),
    handler: async (raw) => {
      const { backup } = await import('../../jobs/backup.js');
      const argv = raw as unknown as BackupArgs;
      ctx.debug = argv.debug;
      await withLogFile(ctx, argv['log-file'], () => runReported(ctx, argv, async (emit) => backup(backupRequest(argv, { ...ctx, emit }))));
    },
  };
}

/** The backup job as these options ask for it; the library API builds it the same way. */
export function backupRequest(argv: BackupArgs, io: JobIo): BackupRequest {
  const { spec, run } = profiledSource(
    argv,
    { connections: positiveInt(argv.connections, 'connections'), selection: parseSelection(argv), traffic: parseTraffic(argv) },
    (line) => io.logger.info(line),
  );
  return {
    account: spec,
    policy: connectionPolicy(argv, run.connections, io),
    dir: argv.to,
    format: argv.format,
    layout: argv.layout,
    archive: argv.archive,
    keep: argv.keep === undefined ? undefined : positiveInt(argv.keep, 'keep'),
    mirror: argv.mirror,
    selection: run.selection,
    filter: parseFilter(argv),
    traffic: run.traffic,
    dryRun: argv['dry-run'],
    logger: io.logger,
    emit: io.emit,
    signal: io.signal,
  };
}

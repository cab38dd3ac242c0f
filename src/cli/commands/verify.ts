import type { Argv, CommandModule } from 'yargs';
import type { VerifyRequest } from '../../jobs/verify.js';
import type { JobIo } from '../job-io.js';
import { exitStatus } from '../../errors/exit-codes.js';
import { verifySummary } from '../../reporting/run-summary.js';
import { verifyText } from '../../reporting/verify-report.js';
import type { CliContext } from '../context.js';
import { connectionPolicy } from '../connection-policy.js';
import { withLogFile } from '../log-file.js';
import { accountOptions, connectionOptions, logFileOption, parseSelection, positiveInt, gmailLabelsViewOption, profileFileOption, selectionOptions, signInOptions } from '../options.js';
import { readableSideOption } from '../side-options.js';
import { profiledSides, type SideArgs } from './side-args.js';

export const verifyOptions = {
  ...accountOptions('from', 'source'),
  ...readableSideOption('from', 'source'),
  ...signInOptions('from'),
  ...gmailLabelsViewOption,
  ...accountOptions('to', 'destination'),
  ...readableSideOption('to', 'destination'),
  ...signInOptions('to'),
  ...selectionOptions,
  // The shared descriptions say "copy"; this command copies nothing.
  folder: { ...selectionOptions.folder, describe: 'compare only this source folder (repeatable)' },
  map: { ...selectionOptions.map, describe: "compare source folder SRC with destination folder DEST, written 'SRC=DEST' with / between levels (repeatable)" },
  quick: { type: 'boolean', default: false, group: 'Run:', describe: 'compare by Message-ID, size, date and flags without reading bodies' },
  ...connectionOptions,
  connections: { ...connectionOptions.connections, describe: 'connections per account; folders are compared this many at a time' },
  ...profileFileOption,
  json: { type: 'boolean', default: false, group: 'Run:', describe: 'print the report as JSON on stdout' },
  quiet: { type: 'boolean', default: false, alias: 'q', group: 'Run:', describe: 'print only the last line of the report' },
  debug: { type: 'boolean', default: false, group: 'Run:', describe: 'log the IMAP conversation (passwords redacted)' },
  ...logFileOption,
} as const;

export type VerifyArgs = SideArgs & { quick: boolean; json: boolean; quiet: boolean; debug: boolean; 'log-file'?: string; connections: number; timeout: number; folder?: string[]; exclude?: string[]; map?: string[] };

export function verifyCommand(ctx: CliContext): CommandModule {
  return {
    command: 'verify',
    describe: 'compare two sides folder by folder; exit 0 when equal, 1 when not (read-only)',
    builder: (y: Argv) =>
      y.options(verifyOptions).example('$0 verify --from imaps://me@old.example --to imaps://me@new.example', 'check a migration'),
    handler: async (raw) => {
      const { verify } = await import('../../jobs/verify.js');
      const argv = raw as unknown as VerifyArgs;
      ctx.debug = argv.debug;
      await withLogFile(ctx, argv['log-file'], async () => {
        const result = await verify(await verifyRequest(argv, ctx));
        ctx.jobLog?.summary(verifySummary(result));
        if (argv.json) ctx.out(JSON.stringify(verifySummary(result), null, 2));
        else ctx.out(argv.quiet ? verifyText(result).split('\n').pop()! : verifyText(result));
        ctx.exitStatus = exitStatus(result.equal ? 'ok' : 'partial');
      });
    },
  };
}

/** The comparison as these options ask for it, both sides opened; the library API builds it the same way. */
export async function verifyRequest(argv: VerifyArgs, io: Omit<JobIo, 'emit'>): Promise<VerifyRequest> {
  const { openSide } = await import('../../jobs/open-side.js');
  const { specs, run } = profiledSides(
    argv,
    { connections: positiveInt(argv.connections, 'connections'), selection: parseSelection(argv) },
    (line) => io.logger.info(line),
  );
  const policy = connectionPolicy(argv, run.connections, io);
  const source = await openSide('source', specs.source, policy, io.logger, run.selection);
  const dest = await openSide('dest', specs.dest, policy, io.logger);
  return { source, dest, selection: run.selection, quick: argv.quick, connections: policy.connections, signal: io.signal };
}

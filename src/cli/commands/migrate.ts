import type { Argv, CommandModule } from 'yargs';
import { exitStatus } from '../../errors/exit-codes.js';
import { migrate } from '../../jobs/migrate.js';
import { createReporter } from '../../reporting/reporter.js';
import type { CliContext } from '../context.js';
import { promptHidden } from '../prompt.js';
import {
  accountOptions, connectionOptions, filterOptions, parseFilter, parseSelection, positiveInt, runOptions, selectionOptions,
} from '../options.js';

export const migrateOptions = {
  ...accountOptions('from', 'source'),
  ...accountOptions('to', 'destination'),
  ...selectionOptions,
  ...filterOptions,
  'sync-flags': { type: 'boolean', default: true, group: 'Messages:', describe: 'carry flag changes of copied messages to the destination on reruns (--no-sync-flags: off)' },
  ...connectionOptions,
  ...runOptions,
} as const;

type MigrateArgs = Record<string, unknown> & {
  from: string; to: string; connections: number; timeout: number; 'insecure-tls': boolean; 'allow-plaintext': boolean;
  'sync-flags': boolean; 'dry-run': boolean; json: boolean; quiet: boolean; debug: boolean; state?: string;
  folder?: string[]; exclude?: string[]; map?: string[]; since?: string; before?: string; 'max-size'?: number;
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
      const argv = raw as unknown as MigrateArgs;
      ctx.debug = argv.debug;
      const reporter = createReporter({ json: argv.json, quiet: argv.quiet, tty: ctx.stderrIsTTY, logger: ctx.logger, out: ctx.out });
      try {
        const result = await migrate({
          accounts: {
            source: { url: argv.from, passwordFile: argv['from-password-file'] as string | undefined, passwordCommand: argv['from-password-command'] as string | undefined, caFile: argv['from-ca'] as string | undefined },
            dest: { url: argv.to, passwordFile: argv['to-password-file'] as string | undefined, passwordCommand: argv['to-password-command'] as string | undefined, caFile: argv['to-ca'] as string | undefined },
          },
          policy: {
            insecureTls: argv['insecure-tls'],
            allowPlaintext: argv['allow-plaintext'],
            connections: positiveInt(argv.connections, 'connections'),
            socketTimeoutMs: positiveInt(argv.timeout, 'timeout') * 1000,
            debug: argv.debug,
            prompt: ctx.stdinIsTTY ? promptHidden : undefined,
          },
          selection: parseSelection(argv),
          filter: parseFilter(argv),
          syncFlags: argv['sync-flags'],
          statePath: argv.state,
          dryRun: argv['dry-run'],
          logger: ctx.logger,
          emit: (e) => reporter.emit(e),
          signal: ctx.signal,
        });
        reporter.finish(result);
        ctx.exitStatus = exitStatus(result.exit);
      } catch (err) {
        reporter.abort();
        throw err;
      }
    },
  };
}

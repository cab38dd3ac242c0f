import { join } from 'node:path';
import type { Argv, CommandModule, Options } from 'yargs';
import { exitStatus } from '../../errors/exit-codes.js';
import { failureOf } from '../../errors/failure.js';
import type { CliContext } from '../context.js';
import { positiveInt } from '../options.js';
import { closeLog, logged, openLog, withLogFile } from '../log-file.js';
import { datedLogFile } from '../../reporting/dated-logs.js';
import { stateDir } from '../../jobs/state-path.js';
import type { ConfiguredJob } from '../job-file.js';

export const configFileOption: Record<string, Options> = {
  config: { type: 'string', group: 'Run:', describe: 'the job file (default: $XDG_CONFIG_HOME/mailferry/config.yaml, i.e. ~/.config/mailferry/config.yaml)' },
};

export const runCommandOptions = {
  ...configFileOption,
  json: { type: 'boolean', default: false, group: 'Run:', describe: "print each job's JSON summary on stdout, one document after another" },
  quiet: { type: 'boolean', default: false, alias: 'q', group: 'Run:', describe: 'silent on a good run: no progress and no summaries, only warnings and errors' },
  debug: { type: 'boolean', default: false, group: 'Run:', describe: 'log the IMAP conversation (passwords redacted) and show stack traces' },
  'log-file': { type: 'string', group: 'Run:', describe: "write every job's log, events and summary to FILE, one JSON object per line (appended; created 0600; no secrets) instead of the dated logs" },
  'log-keep': { type: 'number', default: 30, group: 'Run:', describe: "keep each job's dated logs ($XDG_STATE_HOME/mailferry/logs/<job>/<YYYY-MM-DD>.jsonl) of the last N days; older ones are removed" },
} as const satisfies Record<string, Options>;

interface RunArgs {
  job?: string[];
  config?: string;
  json: boolean;
  quiet: boolean;
  debug: boolean;
  'log-file'?: string;
  'log-keep': number;
}

export function runCommand(ctx: CliContext): CommandModule {
  return {
    command: 'run [job..]',
    describe: 'run the named jobs of the job file (all of them, in file order, when none is named); exit status: the highest of the jobs\'',
    builder: (y: Argv) =>
      y
        .positional('job', { type: 'string', array: true, describe: 'jobs to run, by name' })
        .options(runCommandOptions)
        .example('$0 run', 'every job of ~/.config/mailferry/config.yaml, in file order')
        .example('$0 run nightly --config /etc/mailferry/backup.yaml --quiet', 'one job, for cron'),
    handler: async (raw) => {
      const argv = raw as unknown as RunArgs;
      ctx.debug = argv.debug;
      const { loadJobs, runJob } = await import('../configured-jobs.js');
      const { jobCommandLine } = await import('../job-command-line.js');
      const keepDays = positiveInt(argv['log-keep'], 'log-keep');
      // One --log-file for the whole run, opened (or refused) before any job starts.
      const shared = argv['log-file'] !== undefined ? openLog(ctx, argv['log-file']) : undefined;
      try {
        let jobs: ConfiguredJob[] = [];
        const load = async (): Promise<void> => {
          jobs = await loadJobs(argv.config, ctx, argv.job ?? []);
        };
        if (shared) await logged(ctx, shared, load, 'on-failure');
        else await load();
        let worst = 0;
        for (const job of jobs) {
          if (ctx.signal.aborted) break;
          let status: number;
          try {
            ctx.exitStatus = 0;
            const body = async (): Promise<void> => {
              ctx.logger.info(`job ${job.name}: ${jobCommandLine(job)}`);
              await runJob(job, ctx, { json: argv.json, quiet: argv.quiet, debug: argv.debug });
            };
            if (shared) await logged(ctx, shared, body);
            else await withLogFile(ctx, datedLogFile(join(stateDir(), 'logs'), job.name, keepDays), body);
            status = ctx.exitStatus;
          } catch (err) {
            // One job's failure is told as the command tells it (and in its log); the next job still runs.
            const failure = failureOf(err, ctx.signal.aborted);
            ctx.logger.error(`job ${job.name}: ${failure.line}`);
            status = exitStatus(failure.kind);
          }
          worst = Math.max(worst, status);
        }
        ctx.exitStatus = worst;
      } finally {
        if (shared) closeLog(ctx, shared);
      }
    },
  };
}

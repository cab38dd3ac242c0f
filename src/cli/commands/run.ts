import type { Argv, CommandModule, Options } from 'yargs';
import { exitStatus } from '../../errors/exit-codes.js';
import { failureOf } from '../../errors/failure.js';
import type { CliContext } from '../context.js';

export const configFileOption: Record<string, Options> = {
  config: { type: 'string', group: 'Run:', describe: 'the job file (default: $XDG_CONFIG_HOME/mailferry/config.yaml, i.e. ~/.config/mailferry/config.yaml)' },
};

export const runCommandOptions = {
  ...configFileOption,
  json: { type: 'boolean', default: false, group: 'Run:', describe: "print each job's JSON summary on stdout, one document after another" },
  quiet: { type: 'boolean', default: false, alias: 'q', group: 'Run:', describe: 'silent on a good run: no progress and no summaries, only warnings and errors' },
  debug: { type: 'boolean', default: false, group: 'Run:', describe: 'log the IMAP conversation (passwords redacted) and show stack traces' },
} as const satisfies Record<string, Options>;

interface RunArgs {
  job?: string[];
  config?: string;
  json: boolean;
  quiet: boolean;
  debug: boolean;
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
      const jobs = await loadJobs(argv.config, ctx, argv.job ?? []);
      let worst = 0;
      for (const job of jobs) {
        if (ctx.signal.aborted) break;
        ctx.logger.info(`job ${job.name}: ${jobCommandLine(job)}`);
        let status: number;
        try {
          ctx.exitStatus = 0;
          await runJob(job, ctx, { json: argv.json, quiet: argv.quiet, debug: argv.debug });
          status = ctx.exitStatus;
        } catch (err) {
          // One job's failure is told as the command tells it; the next job still runs.
          const failure = failureOf(err, ctx.signal.aborted);
          ctx.logger.error(`job ${job.name}: ${failure.line}`);
          status = exitStatus(failure.kind);
        }
        worst = Math.max(worst, status);
      }
      ctx.exitStatus = worst;
    },
  };
}

import type { Argv, CommandModule } from 'yargs';
import type { CliContext } from '../context.js';
import { configFileOption } from './run.js';

export const configOptions = { ...configFileOption };

interface ConfigArgs {
  action: 'check' | 'init';
  config?: string;
}

export function configCommand(ctx: CliContext): CommandModule {
  return {
    command: 'config <action>',
    describe: "check the job file (every problem with its line; each job's command line) or write a commented example",
    builder: (y: Argv) =>
      y
        .positional('action', { type: 'string', choices: ['check', 'init'], describe: 'check: validate and show what each job would do; init: write an example (0600; never over an existing file)' })
        .options(configOptions)
        .example('$0 config init', 'write ~/.config/mailferry/config.yaml to edit')
        .example('$0 config check --config backup.yaml', 'check a job file'),
    handler: async (raw) => {
      const argv = raw as unknown as ConfigArgs;
      if (argv.action === 'init') {
        const { writeExample } = await import('../job-file-init.js');
        const file = await writeExample(argv.config);
        ctx.out(`wrote ${file} (mode 0600): edit it, then run mailferry config check`);
        return;
      }
      const { loadJobs } = await import('../configured-jobs.js');
      const { jobCommandLine } = await import('../job-command-line.js');
      for (const job of await loadJobs(argv.config, ctx, [])) ctx.out(`${job.name}: ${jobCommandLine(job)}`);
    },
  };
}

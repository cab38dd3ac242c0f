import type { Argv, CommandModule } from 'yargs';
import type { CliContext } from '../context.js';
import { completionScript, type CompletionShell } from '../completion-script.js';

export const completionOptions = {
  shell: { type: 'string', choices: ['bash', 'zsh'], default: 'bash', group: 'Run:', describe: 'the shell the script is for' },
} as const;

/** `mailferry completion` prints a script that completes commands and their options in bash or zsh. */
export function completionCommand(ctx: CliContext): CommandModule {
  return {
    command: 'completion',
    describe: 'print a shell completion script for commands and options (bash, or --shell zsh); see docs/completion.md',
    builder: (y: Argv) => y.options(completionOptions),
    handler: (raw) => {
      const argv = raw as unknown as { shell: CompletionShell };
      ctx.out(completionScript(argv.shell));
    },
  };
}

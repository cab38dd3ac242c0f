import yargs from 'yargs';
import { UsageError } from '../errors/errors.js';
import { exitCodeTable } from '../errors/exit-codes.js';
import type { CliContext } from './context.js';
import { backupCommand } from './commands/backup.js';
import { migrateCommand } from './commands/migrate.js';
import { sandboxCommand } from './commands/sandbox.js';
import { verifyCommand } from './commands/verify.js';
import { foldersCommand } from './commands/folders.js';
import { profilesCommand } from './commands/profiles.js';
import { loginCommand } from './commands/login.js';
import { restoreCommand } from './commands/restore.js';

/** Parses argv and runs one command; errors propagate to main.ts, which alone ends the process. */
export async function runCli(args: string[], ctx: CliContext): Promise<void> {
  await yargs(args)
    .scriptName('mailferry')
    .usage('$0 <command> [options]\n\nMove, back up and restore email over IMAP: exactly once, resumable.')
    .command(migrateCommand(ctx))
    .command(backupCommand(ctx))
    .command(restoreCommand(ctx))
    .command(verifyCommand(ctx))
    .command(foldersCommand(ctx))
    .command(profilesCommand(ctx))
    .command(loginCommand(ctx))
    .command(sandboxCommand(ctx))
    .demandCommand(1, 'name a command: mailferry --help lists them')
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .epilogue(`Exit codes:\n${exitCodeTable()}\n\nPasswords come from $MAILFERRY_FROM_PASSWORD / $MAILFERRY_TO_PASSWORD, a --*-password-file or --*-password-command, or a prompt; never from an option.`)
    // yargs renders the whole help text on every command run (to have it at hand); wrapping it
    // cost ~30 ms of start-up, so only a run that shows help wraps.
    .wrap(showsHelp(args) ? Math.min(110, process.stdout.columns || 100) : null)
    .help()
    .version()
    .parseAsync();
}

const showsHelp = (args: string[]): boolean => args.includes('--help');

import yargs, { type CommandModule, type Options } from 'yargs';
import { UsageError } from '../errors/errors.js';
import { exitCodeTable } from '../errors/exit-codes.js';
import type { CliContext } from './context.js';
import { bindOptionValues } from './option-values.js';
import { skipHelpCache } from './skip-help-cache.js';
import { backupCommand, backupOptions } from './commands/backup.js';
import { migrateCommand, migrateOptions } from './commands/migrate.js';
import { sandboxCommand, sandboxOptions } from './commands/sandbox.js';
import { verifyCommand, verifyOptions } from './commands/verify.js';
import { foldersCommand, foldersOptions } from './commands/folders.js';
import { profilesCommand, profilesOptions } from './commands/profiles.js';
import { loginCommand, loginOptions } from './commands/login.js';
import { restoreCommand, restoreOptions } from './commands/restore.js';
import { lsCommand, lsOptions } from './commands/ls.js';
import { showCommand, showOptions } from './commands/show.js';
import { exportCommand, exportOptions } from './commands/export.js';
import { checkCommand, checkOptions } from './commands/check.js';
import { runCommand, runCommandOptions } from './commands/run.js';
import { configCommand, configOptions } from './commands/config.js';
import { completionCommand, completionOptions } from './commands/completion.js';
import { bulkCommand } from './commands/bulk.js';
import { workerCommand, workerOptions } from './commands/worker.js';
import { BULK_TABLES } from './commands/bulk-options.js';

/** Each command's option table, to give its options their values as getopt would (option-values.ts). */
export const OPTION_TABLES: Readonly<Record<string, Readonly<Record<string, Options>>>> = {
  migrate: migrateOptions,
  backup: backupOptions,
  restore: restoreOptions,
  verify: verifyOptions,
  folders: foldersOptions,
  profiles: profilesOptions,
  login: loginOptions,
  sandbox: sandboxOptions,
  ls: lsOptions,
  show: showOptions,
  export: exportOptions,
  check: checkOptions,
  run: runCommandOptions,
  config: configOptions,
  completion: completionOptions,
  // Its subcommands have the options (BULK_TABLES); `bulk` itself takes none.
  bulk: {},
  worker: workerOptions,
};

/** The commands, in --help's order (scripts/build-man.mjs reads them too). */
export const COMMANDS: ReadonlyArray<(ctx: CliContext) => CommandModule> = [migrateCommand, backupCommand, restoreCommand, verifyCommand, foldersCommand, profilesCommand, loginCommand, sandboxCommand, lsCommand, showCommand, exportCommand, checkCommand, runCommand, bulkCommand, workerCommand, configCommand, completionCommand];

/** Parses argv and runs one command; errors propagate to main.ts, which alone ends the process. */
export async function runCli(args: string[], ctx: CliContext): Promise<void> {
  const commands = COMMANDS.map((c) => c(ctx));
  // No top-level option takes a value, so the first word that is not an option names the command
  // (`help` is yargs' own). Checked before yargs, which shows the top-level help for
  // `NOSUCHCOMMAND --help`.
  // A shell asking for completions (completion-script.ts) passes the words typed so far, program name first.
  if (args[0] === COMPLETIONS_KEY) args = [COMPLETIONS_KEY, ...args.slice(2)];
  const name = args[0] === COMPLETIONS_KEY ? undefined : args.find((a) => !a.startsWith('-'));
  if (name !== undefined && name !== 'help' && !commands.some((c) => commandName(c) === name)) throw new UsageError(`unknown command: ${name} (mailferry --help lists the commands)`);
  const table = name === 'bulk' ? BULK_TABLES[args.filter((a) => !a.startsWith('-'))[1] ?? ''] : name !== undefined && Object.hasOwn(OPTION_TABLES, name) ? OPTION_TABLES[name] : undefined;
  const parser = commands
    .reduce((y, c) => y.command(c), yargs(table ? bindOptionValues(args, table) : args))
    .scriptName('mailferry')
    .usage('$0 <command> [options]\n\nMove, back up and restore email over IMAP: exactly once, resumable.')
    .demandCommand(1, 'name a command: mailferry --help lists them')
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .epilogue(`Exit codes:\n${exitCodeTable()}\n\nPasswords come from $MAILFERRY_FROM_PASSWORD / $MAILFERRY_TO_PASSWORD, a --*-password-file or --*-password-command, or a prompt; never from an option.`)
    // Wrapping the help text costs ~30 ms, so only a run that shows help wraps it; the others do
    // not render it at all (skip-help-cache.ts).
    .wrap(showsHelp(args) ? Math.min(110, process.stdout.columns || 100) : null)
    .help()
    .version();
  if (!showsHelp(args)) skipHelpCache(parser);
  await parser.parseAsync();
}

const COMPLETIONS_KEY = '--get-yargs-completions';

const showsHelp = (args: string[]): boolean => args.includes('--help');

const commandName = (c: CommandModule): string => String(c.command).split(' ')[0]!;

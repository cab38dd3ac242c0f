import type { Options } from 'yargs';
import { backupOptions, backupRequest, type BackupArgs } from '../cli/commands/backup.js';
import { foldersOptions, foldersRequest, type FoldersArgs } from '../cli/commands/folders.js';
import { migrateOptions, migrateRequest, type MigrateArgs } from '../cli/commands/migrate.js';
import { restoreOptions, restoreRequest, type RestoreArgs } from '../cli/commands/restore.js';
import { verifyOptions, verifyRequest, type VerifyArgs } from '../cli/commands/verify.js';
import type { JobIo } from '../cli/job-io.js';
import type { EmitEvent } from '../engine/events.js';
import { InterruptedError, UsageError } from '../errors/errors.js';
import { backup as backupJob } from '../jobs/backup.js';
import { listFolders as listFoldersJob, type FolderListing } from '../jobs/folders.js';
import { migrate as migrateJob } from '../jobs/migrate.js';
import { restore as restoreJob } from '../jobs/restore.js';
import { verify as verifyJob } from '../jobs/verify.js';
import { StderrLogger } from '../reporting/logger.js';
import { jsonSummary } from '../reporting/reporter.js';
import { verifySummary, type RunSummary, type VerifySummary } from '../reporting/run-summary.js';
import { argvFromOptions } from './option-table.js';
import type { BackupOptions, CallOptions, ListFoldersOptions, MigrateOptions, RestoreOptions, VerifyOptions } from './options.js';
import { sidePasswords, type Word } from './passwords.js';
import { Run } from './run.js';

/** IMAP account to IMAP account, exactly once; calling it again with the same options resumes. */
export function migrate(options: MigrateOptions): Run<RunSummary> {
  return call('migrate', migrateOptions, options, ['from', 'to'], async (argv: MigrateArgs, io) => jsonSummary(await migrateJob(migrateRequest(argv, io))));
}

/** IMAP account to a Maildir or mbox backup directory, incrementally. */
export function backup(options: BackupOptions): Run<RunSummary> {
  return call('backup', backupOptions, options, ['from'], async (argv: BackupArgs, io) => jsonSummary(await backupJob(backupRequest(argv, io))));
}

/** A backup, an archive of one, or Maildir/mbox mail into an IMAP account, exactly once. */
export function restore(options: RestoreOptions): Run<RunSummary> {
  return call('restore', restoreOptions, options, ['to'], async (argv: RestoreArgs, io) => jsonSummary(await restoreJob(restoreRequest(argv, io))));
}

/** Compares two sides folder by folder (read-only); `exitCode` 0 when equal, 1 when not. */
export function verify(options: VerifyOptions): Run<VerifySummary> {
  return call('verify', verifyOptions, options, ['from', 'to'], async (argv: VerifyArgs, io) => verifySummary(await verifyJob(await verifyRequest(argv, io))));
}

/** A side's folders with counts and sizes; with `to`, the folder each would be copied to. */
export function listFolders(options: ListFoldersOptions): Run<FolderListing> {
  return call('folders', foldersOptions, options, ['from', 'to'], async (argv: FoldersArgs, io) => listFoldersJob(await foldersRequest(argv, io)));
}

/** The API's own keys, beside the command's options. */
const CALL_KEYS: ReadonlyArray<keyof CallOptions> = ['log', 'signal'];

/**
 * One call: the options checked as the command line checks its own and turned into the job by the
 * same code, in a Run whose promise carries every error (nothing is thrown synchronously).
 * Diagnostics go to `log` only; nothing is printed, no password is prompted for.
 */
function call<Args, Result>(
  command: string,
  table: Record<string, Options>,
  options: CallOptions & object,
  /** The sides that may be accounts, whose passwords the call takes. */
  words: Word[],
  job: (argv: Args, io: JobIo) => Promise<Result>,
): Run<Result> {
  return new Run(async (emit: EmitEvent) => {
    const passwordKeys = words.flatMap((w) => [`${w}Password`, `${w}PasswordEnv`]);
    const argv = argvFromOptions(command, table, options, [...CALL_KEYS, ...passwordKeys]);
    argv.passwords = sidePasswords(command, options as Record<string, unknown>, words);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new UsageError(`${command}: option signal: expected an AbortSignal`);
    if (options.log !== undefined && typeof options.log !== 'function') throw new UsageError(`${command}: option log: expected a function`);
    if (options.signal?.aborted) throw new InterruptedError();
    const logger = new StderrLogger(argv.debug ? 'debug' : 'info', options.log ?? (() => undefined));
    // argvFromOptions gives what yargs gives the command's handler.
    return job(argv as Args, { logger, emit, signal: options.signal ?? new AbortController().signal, stdinIsTTY: false });
  });
}

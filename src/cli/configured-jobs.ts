import { UsageError } from '../errors/errors.js';
import { StderrLogger } from '../reporting/logger.js';
import { backupRequest, type BackupArgs } from './commands/backup.js';
import { migrateRequest, type MigrateArgs } from './commands/migrate.js';
import { restoreRequest, type RestoreArgs } from './commands/restore.js';
import type { CliContext } from './context.js';
import type { JobIo } from './job-io.js';
import { defaultConfigPath, readJobFile, type ConfiguredJob } from './job-file.js';
import { runReported } from './reported-run.js';

/** Builds a job's request as its command does: what refuses a bad command line refuses a bad job. */
function checkJob(job: ConfiguredJob): void {
  const io: JobIo = { logger: new StderrLogger('error', () => {}), signal: new AbortController().signal, stdinIsTTY: false, emit: () => {} };
  if (job.command === 'migrate') migrateRequest(job.argv as unknown as MigrateArgs, io);
  else if (job.command === 'backup') backupRequest(job.argv as unknown as BackupArgs, io);
  else restoreRequest(job.argv as unknown as RestoreArgs, io);
}

/**
 * The jobs of the file (the named ones, in the order named, or all in file order). Every problem
 * of the file is logged with its line first, and then nothing runs.
 */
export async function loadJobs(file: string | undefined, ctx: Pick<CliContext, 'logger'>, names: readonly string[]): Promise<ConfiguredJob[]> {
  const where = file ?? defaultConfigPath();
  const { jobs, problems } = await readJobFile(where, checkJob);
  for (const p of problems) ctx.logger.error(`${where}:${p.line}: ${p.message}`);
  if (problems.length > 0) throw new UsageError(`${where}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was run`);
  if (names.length === 0) return jobs;
  return names.map((name) => {
    const job = jobs.find((j) => j.name === name);
    if (!job) throw new UsageError(`no job named ${name} in ${where} (it has ${jobs.map((j) => j.name).join(', ') || 'none'})`);
    return job;
  });
}

/** The job's passwords from the file or the environment: given as values, never as options. */
function jobPasswords(job: ConfiguredJob): Partial<Record<'from' | 'to', string>> {
  const passwords: Partial<Record<'from' | 'to', string>> = {};
  for (const [word, secret] of Object.entries(job.secrets) as Array<['from' | 'to', ConfiguredJob['secrets']['from'] & object]>) {
    if ('clear' in secret) passwords[word] = secret.clear;
    else {
      const value = process.env[secret.env];
      if (!value) throw new UsageError(`no password for --${word}: $${secret.env} (the account's password-env) is not set`);
      passwords[word] = value;
    }
  }
  return passwords;
}

/** Runs one job as its command would, printing what the command prints. */
export async function runJob(job: ConfiguredJob, ctx: CliContext, flags: { json: boolean; quiet: boolean; debug: boolean }): Promise<void> {
  const argv = { ...job.argv, ...flags, passwords: jobPasswords(job) };
  if (job.command === 'migrate') {
    const { migrate } = await import('../jobs/migrate.js');
    await runReported(ctx, argv as unknown as MigrateArgs, async (emit) => migrate(migrateRequest(argv as unknown as MigrateArgs, { ...ctx, emit })));
  } else if (job.command === 'backup') {
    const { backup } = await import('../jobs/backup.js');
    await runReported(ctx, argv as unknown as BackupArgs, async (emit) => backup(backupRequest(argv as unknown as BackupArgs, { ...ctx, emit })));
  } else {
    const { restore } = await import('../jobs/restore.js');
    await runReported(ctx, argv as unknown as RestoreArgs, async (emit) => restore(restoreRequest(argv as unknown as RestoreArgs, { ...ctx, emit })));
  }
}

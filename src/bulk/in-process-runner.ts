import { closeSync, openSync, writeSync } from 'node:fs';
import type { AccessTokenSource } from '../auth/access-token.js';
import type { BackupArgs } from '../cli/commands/backup.js';
import type { MigrateArgs } from '../cli/commands/migrate.js';
import type { EngineEvent } from '../engine/events.js';
import { PermanentConnectionError } from '../errors/errors.js';
import { exitStatus } from '../errors/exit-codes.js';
import { failureOf } from '../errors/failure.js';
import type { JobResult } from '../jobs/job-result.js';
import { StderrLogger } from '../reporting/logger.js';
import type { AccountOutcome, AccountRunner, AttemptIo } from './account-runner.js';
import type { AccountSecrets } from './account-secrets.js';
import type { BulkAccount, BulkCommand } from './bulk-account.js';
import { isTransient } from './retry-policy.js';

export interface RunnerSetup {
  command: BulkCommand;
  /** The campaign's options, as the single-account command takes them (minus the account and its secrets). */
  argv: Record<string, unknown>;
  secrets: AccountSecrets;
  /** Passwords to keep out of every log line, whatever reaches one. */
  redact: readonly string[];
  /** --from-admin/--to-admin: who logs in, opening each row's user's mailbox as its authorization identity. */
  admins: Partial<Record<'from' | 'to', string>>;
  /** The account's own checkpoint (migrate) and log file. */
  files: (account: BulkAccount) => { checkpoint: string; log: string };
}

/**
 * Runs an account in this process as `mailferry migrate`/`backup` would with the campaign's
 * options and the row's own: its own checkpoint, its diagnostics in its own log file (never a
 * secret: the run's logger redacts every password it learns), its own stop signal.
 */
export class InProcessRunner implements AccountRunner {
  constructor(private readonly setup: RunnerSetup) {}

  async run(account: BulkAccount, io: AttemptIo): Promise<AccountOutcome> {
    const started = Date.now();
    const { checkpoint, log } = this.setup.files(account);
    const fd = openSync(log, 'a', 0o600);
    const logger = new StderrLogger(this.setup.argv.debug ? 'debug' : 'info', (line) => void writeSync(fd, `${new Date().toISOString()} ${line}\n`));
    for (const s of this.setup.redact) logger.addSecret(s);
    let settled = { messages: 0, bytes: 0 };
    const emit = (e: EngineEvent): void => {
      if (e.type === 'progress') {
        settled = { messages: settled.messages + e.messages, bytes: settled.bytes + e.bytes };
        io.progress(settled.messages, settled.bytes);
      } else if (e.type === 'notice') logger.info(e.message);
      else if (e.type === 'folder-done' && e.report.failed > 0) logger.warn(`${e.report.source}: ${e.report.failed} message(s) failed`);
    };
    logger.info(`${this.setup.command} ${account.from} -> ${account.to} (${account.origin.file}:${account.origin.line})`);
    try {
      const result = await this.job(account, checkpoint, { logger, signal: io.signal, stdinIsTTY: false, emit });
      const outcome: AccountOutcome = {
        exit: result.exit,
        exitCode: exitStatus(result.exit),
        ...(result.exit !== 'ok' ? { line: `${result.totals.failed} message(s) failed${result.verify && !result.verify.equal ? ', or the accounts differ' : ''} (see ${log})` } : {}),
        transient: false,
        messages: result.totals.copied,
        bytes: result.totals.bytes,
        durationMs: Date.now() - started,
      };
      logger.info(`finished: ${result.totals.copied} copied, ${result.totals.present} already there, ${result.totals.failed} failed, exit ${outcome.exitCode}`);
      return outcome;
    } catch (err) {
      const failure = failureOf(err, io.signal.aborted);
      logger.error(failure.line);
      return {
        exit: failure.kind,
        exitCode: exitStatus(failure.kind),
        line: failure.line,
        transient: isTransient(failure.kind, err instanceof PermanentConnectionError),
        messages: 0,
        bytes: 0,
        durationMs: Date.now() - started,
      };
    } finally {
      closeSync(fd);
    }
  }

  private async job(account: BulkAccount, checkpoint: string, io: { logger: StderrLogger; signal: AbortSignal; stdinIsTTY: false; emit: (e: EngineEvent) => void }): Promise<JobResult> {
    const argv: Record<string, unknown> = { ...this.setup.argv, ...account.options, from: account.from, to: account.to, json: false, quiet: true, _: [this.setup.command] };
    const passwords: Partial<Record<'from' | 'to', string>> = {};
    const tokens: Partial<Record<'from' | 'to', AccessTokenSource>> = {};
    for (const word of this.setup.command === 'migrate' ? (['from', 'to'] as const) : (['from'] as const)) {
      const spec = await this.setup.secrets.signIn(account, word);
      if (spec.password !== undefined) passwords[word] = spec.password;
      if (spec.tokens !== undefined) tokens[word] = spec.tokens;
      argv[`${word}-password-file`] = spec.passwordFile;
      argv[`${word}-password-command`] = spec.passwordCommand;
      argv[`${word}-authzid`] = spec.authzid;
      const admin = this.setup.admins[word];
      if (admin !== undefined) {
        // The row names the mailbox; the administrator logs in and acts as its user.
        const url = new URL(account[word]);
        argv[`${word}-authzid`] = decodeURIComponent(url.username);
        url.username = encodeURIComponent(admin);
        argv[word] = url.toString().replace(/\/$/, '');
      }
      argv[`${word}-oauth2-token-command`] = spec.oauth2TokenCommand;
      argv[`${word}-oauth2`] = spec.oauth2;
    }
    argv.passwords = passwords;
    argv.tokens = tokens;
    if (this.setup.command === 'migrate') {
      const [{ migrate }, { migrateRequest }] = await Promise.all([import('../jobs/migrate.js'), import('../cli/commands/migrate.js')]);
      return migrate(migrateRequest({ ...argv, state: checkpoint } as unknown as MigrateArgs, io));
    }
    const [{ backup }, { backupRequest }] = await Promise.all([import('../jobs/backup.js'), import('../cli/commands/backup.js')]);
    return backup(backupRequest(argv as unknown as BackupArgs, io));
  }
}

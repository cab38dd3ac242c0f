import { readAccountList } from '../bulk/account-list.js';
import type { CampaignSnapshot } from '../bulk/account-status.js';
import type { BulkAccount, BulkCommand } from '../bulk/bulk-account.js';
import { Bars, PlainLines } from '../bulk/bulk-display.js';
import { defaultStatusFile } from '../bulk/campaign-files.js';
import { bytesText } from '../bulk/campaign-progress.js';
import { campaignTotals } from '../bulk/campaign-totals.js';
import { problemLine } from '../bulk/list-problem.js';
import { OptionSecrets } from '../bulk/option-secrets.js';
import { runCampaign } from '../bulk/run-campaign.js';
import { InterruptedError, UsageError } from '../errors/errors.js';
import { exitStatus } from '../errors/exit-codes.js';
import { StderrLogger } from '../reporting/logger.js';
import { counted } from '../reporting/plural.js';
import type { BulkRunArgs } from './commands/bulk.js';
import { backupRequest, type BackupArgs } from './commands/backup.js';
import { migrateRequest, type MigrateArgs } from './commands/migrate.js';
import type { CliContext } from './context.js';
import { positiveInt } from './options.js';

/**
 * `bulk migrate|backup LIST`: checks the whole list and the options before anything starts (every
 * problem at once, exit 2), then runs the campaign; exit 0 when every account is done, 1 when some
 * failed (each listed with its line), 130 when interrupted.
 */
export async function bulkRun(command: BulkCommand, argv: BulkRunArgs, ctx: CliContext): Promise<void> {
  const parallel = positiveInt(argv.parallel, 'parallel');
  const maxPerHost = argv['max-per-host'] === undefined ? undefined : positiveInt(argv['max-per-host'], 'max-per-host');
  if (!Number.isInteger(argv.retries) || argv.retries < 0) throw new UsageError(`--retries: expected a whole number of at least 0, got ${argv.retries}`);
  const list = await readAccountList(argv.list, { command, allowPasswords: argv['allow-passwords-in-list'], profileFile: argv['profile-file'] });
  for (const p of list.problems) ctx.logger.error(problemLine(argv.list, p));
  if (list.problems.length > 0) throw new UsageError(`${argv.list}: ${counted(list.problems.length, 'problem')}; nothing was started`);

  const secrets = new OptionSecrets(
    {
      from: { passwordFile: argv['from-password-file'], oauth2TokenCommand: argv['from-oauth2-token-command'], oauth2: argv['from-oauth2'] },
      to: { passwordFile: argv['to-password-file'], oauth2TokenCommand: argv['to-oauth2-token-command'], oauth2: argv['to-oauth2'] },
    },
    list.passwords,
  );
  for (const s of secrets.secrets()) ctx.logger.addSecret(s);
  await checkSignIns(command, list.accounts, secrets);
  checkOptions(command, argv, list.accounts[0]!);

  const statusFile = argv.status ?? defaultStatusFile(argv.list);
  const snapshot = await runCampaign({
    command,
    list: argv.list,
    statusFile,
    accounts: list.accounts,
    secrets,
    redact: secrets.secrets(),
    argv,
    parallel,
    maxPerHost,
    retries: argv.retries,
    admins: { from: argv['from-admin'], to: argv['to-admin'] },
    signal: ctx.signal,
    display: (progress) => (argv.quiet ? { event: () => {}, stop: () => {} } : ctx.stderrIsTTY ? new Bars(progress) : new PlainLines(ctx.logger)),
  });
  finish(list.accounts, snapshot, argv, ctx, statusFile);
}

/** Every account must have a password or a sign-in for each side before the campaign starts. */
async function checkSignIns(command: BulkCommand, accounts: readonly BulkAccount[], secrets: OptionSecrets): Promise<void> {
  for (const word of command === 'migrate' ? (['from', 'to'] as const) : (['from'] as const)) {
    let missing = 0;
    for (const a of accounts) {
      const spec = await secrets.signIn(a, word);
      if (spec.password === undefined && spec.passwordFile === undefined && spec.passwordCommand === undefined && spec.oauth2 === undefined && spec.oauth2TokenCommand === undefined) missing++;
    }
    if (missing > 0) {
      throw new UsageError(`no password for --${word} of ${counted(missing, 'account')}: set MAILFERRY_${word.toUpperCase()}_PASSWORD (one password for every account), give --${word}-password-file or --${word}-oauth2, or a ${word}_password column with --allow-passwords-in-list`);
    }
  }
}

/** The campaign's options make a request as the single command's would: what it refuses is refused here, before anything starts. */
function checkOptions(command: BulkCommand, argv: BulkRunArgs, first: BulkAccount): void {
  const io = { logger: new StderrLogger('error', () => {}), signal: new AbortController().signal, stdinIsTTY: false, emit: () => {} };
  const args = { ...argv, ...first.options, from: first.from, to: first.to, passwords: { from: 'x', to: 'x' } };
  if (command === 'migrate') migrateRequest(args as unknown as MigrateArgs, io);
  else backupRequest(args as unknown as BackupArgs, io);
}

function finish(accounts: readonly BulkAccount[], snapshot: CampaignSnapshot, argv: BulkRunArgs, ctx: CliContext, statusFile: string): void {
  const keys = new Set(accounts.map((a) => a.key));
  const mine = snapshot.accounts.filter((a) => keys.has(a.key));
  const totals = campaignTotals(mine);
  if (argv.json) ctx.out(JSON.stringify({ ...snapshot, status: statusFile, totals }, null, 2));
  const lineOf = new Map(accounts.map((a) => [a.key, a.origin.line]));
  for (const a of mine.filter((s) => s.state === 'failed')) ctx.logger.error(`${a.id ?? a.key} (${argv.list}:${lineOf.get(a.key)}) ${a.from} -> ${a.to}: ${a.lastError ?? 'failed'}`);
  if (ctx.signal.aborted) throw new InterruptedError(`interrupted: ${counted(totals.byState.done, 'account')} of ${totals.accounts} done; rerun the same command to resume (bulk status --status ${statusFile})`);
  ctx.logger.info(`${counted(totals.accounts, 'account')}: ${totals.byState.done} done, ${totals.byState.failed} failed; ${totals.messages} messages (${bytesText(totals.bytes)}) copied in all; status: ${statusFile}`);
  ctx.exitStatus = totals.byState.failed > 0 || totals.byState.done < totals.accounts ? exitStatus('partial') : exitStatus('ok');
}

import { readAccountList } from '../bulk/account-list.js';
import type { CampaignSnapshot } from '../bulk/account-status.js';
import type { BulkAccount, BulkCommand } from '../bulk/bulk-account.js';
import { Bars, PlainLines, type BulkDisplay } from '../bulk/bulk-display.js';
import { defaultReportDir, defaultStatusFile } from '../bulk/campaign-files.js';
import { writeReports } from '../bulk/report/write-reports.js';
import { bytesText, type CampaignProgress } from '../bulk/campaign-progress.js';
import { campaignTotals } from '../bulk/campaign-totals.js';
import { problemLine } from '../bulk/list-problem.js';
import { bulkSecrets } from '../bulk/secrets/bulk-secrets.js';
import { hasSecretSource, type BulkSecretArgs } from '../bulk/secrets/options.js';
import { parseQueueAddress } from '../bulk/queue/queue-address.js';
import { probeQueue } from '../bulk/queue/queue-probe.js';
import { runQueuedCampaign } from '../bulk/queue/run-queued-campaign.js';
import { runCampaign } from '../bulk/run-campaign.js';
import { InterruptedError, UsageError } from '../errors/errors.js';
import { exitStatus } from '../errors/exit-codes.js';
import { StderrLogger } from '../reporting/logger.js';
import { counted } from '../reporting/plural.js';
import type { BulkRunArgs } from './commands/bulk.js';
import { JOB_OPTION_NAMES } from './commands/bulk-options.js';
import { backupRequest, type BackupArgs } from './commands/backup.js';
import { migrateRequest, type MigrateArgs } from './commands/migrate.js';
import type { OptionSecrets } from '../bulk/option-secrets.js';
import { campaignSignIn } from './bulk-sign-in.js';
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

  if (argv.queue !== undefined) {
    await enqueueCampaign(command, argv, list.accounts, list.passwords.size > 0, ctx);
    return;
  }

  const fallback = campaignSignIn(argv, list.passwords, ctx);
  const secrets = bulkSecrets(argv as BulkSecretArgs, fallback);
  // A side with a per-account source (template, directory, app credential) is resolved as each account starts.
  await checkSignIns(sidesOf(command).filter((word) => !hasSecretSource(argv, word)), list.accounts, fallback);
  checkOptions(command, argv, list.accounts[0]!);

  const statusFile = argv.status ?? defaultStatusFile(argv.list);
  const snapshot = await runCampaign({
    command,
    list: argv.list,
    statusFile,
    accounts: list.accounts,
    secrets,
    redact: fallback.secrets(),
    argv,
    parallel,
    maxPerHost,
    retries: argv.retries,
    admins: { from: argv['from-admin'], to: argv['to-admin'] },
    signal: ctx.signal,
    display: displayFor(argv, ctx),
  });
  await report(snapshot, argv, ctx);
  finish(list.accounts, snapshot, argv, ctx, { status: statusFile, rerun: `rerun the same command to resume (bulk status --status ${statusFile})` });
}

/**
 * `--queue`: the accounts go to the queue for `mailferry worker` processes, which sign in with
 * their own secrets; this command follows the campaign until every account is done or failed.
 */
async function enqueueCampaign(command: BulkCommand, argv: BulkRunArgs, accounts: BulkAccount[], listHasPasswords: boolean, ctx: CliContext): Promise<void> {
  if (listHasPasswords) throw new UsageError('--queue: the queue carries no passwords; give each worker its own (docs/bulk.md, "Distributed mode") and remove the password columns');
  const signIn = Object.keys(argv).find((name) => WORKER_SIGN_IN.test(name) && argv[name] !== undefined);
  if (signIn !== undefined) throw new UsageError(`--${signIn} with --queue: each worker signs in with its own; give it to mailferry worker`);
  checkOptions(command, argv, accounts[0]!);
  const address = parseQueueAddress(argv.queue!, process.env, (w) => ctx.logger.warn(w));
  await probeQueue(address);
  const queueName = argv['queue-name'];
  const options = Object.fromEntries(Object.entries(argv).filter(([name, value]) => JOB_OPTION_NAMES.has(name) && value !== undefined));
  const snapshot = await runQueuedCampaign({
    command,
    list: argv.list,
    accounts,
    address,
    queueName,
    options,
    retries: argv.retries,
    signal: ctx.signal,
    display: displayFor(argv, ctx),
  });
  await report(snapshot, argv, ctx);
  const status = `bulk status --queue ${address.label} --queue-name ${queueName}`;
  finish(accounts, snapshot, argv, ctx, { status, rerun: `the workers go on; follow them again with the same command, or ${status}` });
}

const sidesOf = (command: BulkCommand): Array<'from' | 'to'> => (command === 'migrate' ? ['from', 'to'] : ['from']);

/** Every account must have a password or a sign-in for each side before the campaign starts. */
async function checkSignIns(words: ReadonlyArray<'from' | 'to'>, accounts: readonly BulkAccount[], secrets: OptionSecrets): Promise<void> {
  for (const word of words) {
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

/** Bars on a terminal, plain lines otherwise, nothing with --quiet. */
function displayFor(argv: BulkRunArgs, ctx: CliContext): (progress: CampaignProgress) => BulkDisplay {
  return (progress) => (argv.quiet ? { event: () => {}, stop: () => {} } : ctx.stderrIsTTY ? new Bars(progress) : new PlainLines(ctx.logger));
}

/** Sign-in options, which a worker takes on its own machine and a queued campaign does not carry. */
const WORKER_SIGN_IN = /^(from|to)-(admin|password-file|password-command|password-dir|oauth2|oauth2-token-command|google-service-account|ms-[a-z-]+)$/;

/** report.json, report.csv and report.html of the campaign, interrupted or not. */
async function report(snapshot: CampaignSnapshot, argv: BulkRunArgs, ctx: CliContext): Promise<void> {
  const written = await writeReports(snapshot, argv['report-dir'] ?? defaultReportDir(argv.list));
  ctx.logger.info(`reports: ${written.html} (and report.json, report.csv beside it)`);
}

/** Where the campaign's status is, and what to do after an interruption. */
interface StatusHint {
  status: string;
  rerun: string;
}

function finish(accounts: readonly BulkAccount[], snapshot: CampaignSnapshot, argv: BulkRunArgs, ctx: CliContext, hint: StatusHint): void {
  const keys = new Set(accounts.map((a) => a.key));
  const mine = snapshot.accounts.filter((a) => keys.has(a.key));
  const totals = campaignTotals(mine);
  if (argv.json) ctx.out(JSON.stringify({ ...snapshot, status: hint.status, totals }, null, 2));
  const lineOf = new Map(accounts.map((a) => [a.key, a.origin.line]));
  for (const a of mine.filter((s) => s.state === 'failed')) ctx.logger.error(`${a.id ?? a.key} (${argv.list}:${lineOf.get(a.key)}) ${a.from} -> ${a.to}: ${a.lastError ?? 'failed'}`);
  if (ctx.signal.aborted) throw new InterruptedError(`interrupted: ${counted(totals.byState.done, 'account')} of ${totals.accounts} done; ${hint.rerun}`);
  ctx.logger.info(`${counted(totals.accounts, 'account')}: ${totals.byState.done} done, ${totals.byState.failed} failed; ${totals.messages} messages (${bytesText(totals.bytes)}) copied in all; status: ${hint.status}`);
  ctx.exitStatus = totals.byState.failed > 0 || totals.byState.done < totals.accounts ? exitStatus('partial') : exitStatus('ok');
}

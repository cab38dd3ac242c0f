import type { AccountStatus } from '../bulk/account-status.js';
import { defaultStatusFile } from '../bulk/campaign-files.js';
import { bytesText, durationText } from '../bulk/campaign-progress.js';
import { campaignTotals } from '../bulk/campaign-totals.js';
import { writeReports } from '../bulk/report/write-reports.js';
import { parseQueueAddress } from '../bulk/queue/queue-address.js';
import { probeQueue } from '../bulk/queue/queue-probe.js';
import { RedisStatusStore } from '../bulk/queue/redis-status-store.js';
import { SqliteStatusStore } from '../bulk/sqlite-status-store.js';
import type { StatusStore } from '../bulk/status-store.js';
import { UsageError } from '../errors/errors.js';
import { counted } from '../reporting/plural.js';
import type { BulkStatusArgs } from './commands/bulk.js';
import { tableText } from './commands/table-text.js';
import type { CliContext } from './context.js';

/** `bulk status`: the table of accounts and the totals, or the snapshot and totals as JSON. */
export async function bulkStatus(argv: BulkStatusArgs, ctx: CliContext): Promise<void> {
  const store = await statusStore(argv, ctx);
  let snapshot;
  try {
    snapshot = await store.snapshot();
  } finally {
    await store.close();
  }
  if (argv['report-dir'] !== undefined) {
    const written = await writeReports(snapshot, argv['report-dir']);
    ctx.logger.info(`reports: ${written.html} (and report.json, report.csv beside it)`);
  }
  const accounts = argv.failed ? snapshot.accounts.filter((a) => a.state === 'failed') : snapshot.accounts;
  const totals = campaignTotals(snapshot.accounts);
  if (argv.json) {
    ctx.out(JSON.stringify({ ...snapshot, accounts, totals }, null, 2));
    return;
  }
  if (argv.failed) {
    for (const a of accounts) ctx.out(`${name(a)}  ${a.from} -> ${a.to}: ${a.lastError ?? `exit ${a.exitCode}`}`);
  } else {
    const rows = accounts.map((a) => [name(a), a.from, a.to, a.state, String(a.attempts), String(a.messages), bytesText(a.bytes), durationText(a.durationMs / 1000), a.lastError ?? '']);
    for (const line of tableText([['account', 'from', 'to', 'state', 'attempts', 'messages', 'bytes', 'duration', 'last error'], ...rows])) ctx.out(line);
  }
  const states = Object.entries(totals.byState).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ');
  ctx.out(`${counted(totals.accounts, 'account')}: ${states || 'none'}; ${totals.messages} messages, ${bytesText(totals.bytes)}, ${durationText(totals.durationMs / 1000)} of running`);
}

/** The campaign's status: its SQLite file, or with --queue the Redis its workers write to. */
async function statusStore(argv: BulkStatusArgs, ctx: CliContext): Promise<StatusStore> {
  if (argv.queue !== undefined) {
    const address = parseQueueAddress(argv.queue, process.env, (w) => ctx.logger.warn(w));
    await probeQueue(address);
    const store = RedisStatusStore.open(address, argv['queue-name']);
    if ((await store.identity()) === undefined) {
      await store.close();
      throw new UsageError(`no bulk campaign in the queue ${argv['queue-name']} at ${address.label}`);
    }
    return store;
  }
  const file = argv.status ?? (argv.list !== undefined ? defaultStatusFile(argv.list) : undefined);
  if (file === undefined) throw new UsageError('bulk status: give the campaign: its LIST, --status FILE or --queue URL');
  return SqliteStatusStore.forReading(file);
}

const name = (a: AccountStatus): string => a.id ?? a.key;

import { join } from 'node:path';
import { bulkSecrets } from '../bulk/secrets/bulk-secrets.js';
import { InProcessRunner } from '../bulk/in-process-runner.js';
import { parseQueueAddress } from '../bulk/queue/queue-address.js';
import { probeQueue } from '../bulk/queue/queue-probe.js';
import { runWorker } from '../bulk/queue/queue-worker.js';
import { RedisStatusStore } from '../bulk/queue/redis-status-store.js';
import { UsageError } from '../errors/errors.js';
import { stateDir } from '../jobs/state-path.js';
import type { WorkerArgs } from './commands/worker.js';
import { campaignSignIn } from './bulk-sign-in.js';
import type { CliContext } from './context.js';
import { positiveInt } from './options.js';

/**
 * `mailferry worker`: takes accounts from the queue and runs each as `bulk` does here, signing in
 * with this machine's own secrets, until SIGTERM/SIGINT, when the running accounts are stopped
 * (checkpointed) and put back in the queue for any worker. Exit 0 after such a clean stop.
 */
export async function bulkWorker(argv: WorkerArgs, ctx: CliContext): Promise<void> {
  const parallel = positiveInt(argv.parallel, 'parallel');
  if (!(argv['lock-duration'] >= 5)) throw new UsageError(`--lock-duration: expected at least 5 seconds, got ${argv['lock-duration']}`);
  const address = parseQueueAddress(argv.queue, process.env, (w) => ctx.logger.warn(w));
  await probeQueue(address);
  const fallback = campaignSignIn(argv, new Map(), ctx);
  const secrets = bulkSecrets(argv, fallback);
  const store = RedisStatusStore.open(address, argv['queue-name']);
  const dir = argv['state-dir'] ?? join(stateDir(), 'worker');
  ctx.logger.info(`worker: taking accounts from ${address.label} (queue ${argv['queue-name']}), ${parallel} at once; checkpoints and logs in ${dir}`);
  try {
    await runWorker({
      address,
      queueName: argv['queue-name'],
      parallel,
      stateDir: dir,
      runnerFor: (job, files) => new InProcessRunner({ command: job.command, argv: { ...job.options, debug: argv.debug }, secrets, redact: fallback.secrets(), admins: { from: argv['from-admin'], to: argv['to-admin'] }, files }),
      store,
      lockMs: argv['lock-duration'] * 1000,
      signal: ctx.signal,
      log: (line) => (argv.quiet ? undefined : ctx.logger.info(line)),
    });
  } finally {
    await store.close();
  }
  ctx.logger.info('worker: stopped; its unfinished accounts are back in the queue');
}

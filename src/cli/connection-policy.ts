import type { ConnectionPolicy } from '../jobs/imap-side.js';
import type { CliContext } from './context.js';
import { positiveInt } from './options.js';
import { promptHidden } from './prompt.js';

/** The connection options every command takes (`connectionOptions`), as the jobs want them. */
export interface ConnectionArgs {
  'insecure-tls': boolean;
  'allow-plaintext': boolean;
  timeout: number;
  debug: boolean;
}

export function connectionPolicy(argv: ConnectionArgs, connections: number, ctx: Pick<CliContext, 'stdinIsTTY' | 'signal'>): ConnectionPolicy {
  return {
    insecureTls: argv['insecure-tls'],
    allowPlaintext: argv['allow-plaintext'],
    connections,
    socketTimeoutMs: positiveInt(argv.timeout, 'timeout') * 1000,
    debug: argv.debug,
    // Only a terminal can be asked; cron and pipes get the "no password" error instead.
    prompt: ctx.stdinIsTTY ? promptHidden : undefined,
    signal: ctx.signal,
  };
}

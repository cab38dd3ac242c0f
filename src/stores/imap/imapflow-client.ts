import { createRequire } from 'node:module';
import type { ImapFlow as ImapFlowClass } from 'imapflow';

/**
 * imapflow, with non-synchronizing literals for our APPENDs.
 *
 * imapflow 2.x compiles every command with `literalMinus` only, so on a LITERAL+ server (RFC 7888)
 * each literal over 4 KB still waits for the server's "+" continuation: one round trip per
 * message, which at 40 ms RTT dominates a migration. Its compiler already supports `literalPlus`;
 * nothing passes it. We load imapflow's CommonJS build, whose command sender looks the compiler up
 * on the handler module at each call, and wrap that lookup: a command whose exec options say
 * `literalPlus: true` (multi-append.ts sets it only when the server advertises LITERAL+) is
 * compiled with it. If a future imapflow moves the compiler, the wrap finds nothing and APPEND
 * simply keeps the slower synchronizing literals; test/unit/imapflow-internals.test.ts checks that it
 * applies (imapflow is pinned to the exact version in package.json for this).
 */
const require = createRequire(import.meta.url);
const handler = require('imapflow/lib/handler/imap-handler.js') as { compiler?: Compiler };

type Compiler = (data: { options?: { literalPlus?: boolean } }, options?: Record<string, unknown>) => unknown;

const original = handler.compiler;
if (typeof original === 'function') {
  handler.compiler = (data, options) => original(data, data?.options?.literalPlus ? { ...options, literalPlus: true } : options);
}

export const ImapFlow: typeof ImapFlowClass = (require('imapflow') as { ImapFlow: typeof ImapFlowClass }).ImapFlow;
export type ImapFlow = ImapFlowClass;

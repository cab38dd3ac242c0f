// mailferry itself, run from dist/ as a user would run it.
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Measurement } from '../measure.js';
import { accountMessages, maildirMessages, mboxMessages } from '../verify.js';
import { expectCopy, NEW_MESSAGES, PASSWORD, type Phase, type RunContext, type Tool } from '../tool.js';
import { dropAccountMail, freshAccount } from './accounts.js';

const MAIN = fileURLToPath(new URL('../../dist/bin/main.js', import.meta.url));
const url = (ctx: RunContext, user: string): string => `${ctx.endpoint.tls ? 'imaps' : 'imap'}://${user}@${ctx.endpoint.host}:${ctx.endpoint.port}`;

/**
 * Account to account; the checkpoint lives in the repetition's directory. `build`: another build
 * of mailferry to run instead of this tree's dist/ (BENCH_BASELINE, see plan.ts), named apart so
 * that no target is computed from it.
 */
export function mailferryMigrate(connections: number, build?: { main: string; label: string }): Tool {
  const name = `${build ? `${build.label}: ` : ''}mailferry migrate, ${connections} conn`;
  const main = build?.main ?? MAIN;
  return {
    name,
    unavailable: async () => commandMissing('migrate', main),
    async prepare(ctx) {
      const dest = await freshAccount(ctx);
      return {
        command: {
          command: main,
          args: [
            'migrate', '--from', url(ctx, ctx.source.user), '--to', url(ctx, dest), '--from-ca', ctx.server.caFile, '--to-ca', ctx.server.caFile,
            '--state', join(ctx.workDir, 'state.sqlite'), '--connections', String(connections), '--quiet', '--json',
          ],
          env: { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD },
        },
        async check(m, phase) {
          expectCopy(m, await accountMessages(ctx.server, dest), ctx.source.messages, name);
          expectReported(m, phase, ctx.source.messages, name);
        },
        cleanup: () => dropAccountMail(ctx, dest),
      };
    },
  };
}

/** Backup into a local directory (its checkpoint is inside it). */
export function mailferryBackup(format: 'maildir' | 'mbox', connections: number): Tool {
  const name = `mailferry backup ${format}, ${connections} conn`;
  return {
    name,
    unavailable: async () => commandMissing('backup'),
    async prepare(ctx) {
      const dir = join(ctx.workDir, 'backup');
      return {
        command: {
          command: MAIN,
          args: ['backup', '--from', url(ctx, ctx.source.user), '--from-ca', ctx.server.caFile, '--to', dir, '--format', format, '--connections', String(connections), '--quiet', '--json'],
          env: { MAILFERRY_FROM_PASSWORD: PASSWORD },
        },
        async check(m, phase) {
          // The checkpoint directory holds no messages; anything else that is not a folder's
          // mbox file (a manifest) has no `From ` lines at line starts.
          const counted = format === 'maildir' ? await maildirMessages(dir) : await mboxMessages(dir, (f) => !f.includes('/.mailferry/'));
          expectCopy(m, counted, ctx.source.messages, name);
          expectReported(m, phase, ctx.source.messages, name);
        },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  };
}

/** mailferry's own JSON summary must agree: everything copied on a full run, nothing on a rerun, the new mail on an update. */
function expectReported(m: Measurement, phase: Phase, messages: number, name: string): void {
  const copied = (JSON.parse(m.stdout) as { totals: { copied: number } }).totals.copied;
  const expected = { full: messages, rerun: 0, update: NEW_MESSAGES }[phase];
  if (copied !== expected) throw new Error(`${name} ${phase}: reported ${copied} messages copied, expected ${expected}`);
}

function commandMissing(command: string, main = MAIN): string | undefined {
  const help = spawnSync(process.execPath, [main, command, '--help'], { stdio: 'ignore' });
  return help.status === 0 ? undefined : `${command} not built`;
}

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { accountMessages } from '../verify.js';
import { PASSWORD, type RunContext } from '../tool.js';

/** A new Dovecot user per repetition: destinations always start empty. */
export async function freshAccount(ctx: RunContext): Promise<string> {
  await ctx.server.addUser({ name: ctx.id, password: PASSWORD });
  const held = await accountMessages(ctx.server, ctx.id);
  if (held !== 0) throw new Error(`new account ${ctx.id} already holds ${held} messages`);
  return ctx.id;
}

/**
 * A new user without any mailbox, not even INBOX. `doveadm backup` needs this: it makes the
 * destination's mailboxes the source's, and one that already exists under another GUID must be
 * deleted and recreated, which INBOX cannot be ("Mailbox INBOX sync: mailbox_delete failed").
 */
export async function virginAccount(ctx: RunContext): Promise<string> {
  const user = await freshAccount(ctx);
  await dropAccountMail(ctx, user);
  return user;
}

/** Removes the account's mail (the user stays in the passwd-file; nobody logs in again). */
export async function dropAccountMail(ctx: RunContext, user: string): Promise<void> {
  await rm(join(ctx.server.mailHome(user), 'Maildir'), { recursive: true, force: true });
}

import type { Sides } from '../../domain/types.js';
import type { FolderSelection } from '../../engine/folder-map.js';
import { exitStatus } from '../../errors/exit-codes.js';
import type { ConnectionPolicy, ImapSideSpec } from '../../jobs/imap-side.js';
import type { CliContext } from '../context.js';

/** `migrate --check-login`: both logins and what each server offers, then stop. */
export async function checkLoginMode(ctx: CliContext, json: boolean, accounts: Sides<ImapSideSpec>, policy: ConnectionPolicy): Promise<void> {
  const { checkLogin } = await import('../../jobs/check-login.js');
  const { loginCheckJson, loginCheckText } = await import('../../reporting/login-check-report.js');
  const { checks, failure } = await checkLogin(accounts, policy, ctx.logger);
  if (checks.length > 0) ctx.out(json ? JSON.stringify(loginCheckJson(checks), null, 2) : loginCheckText(checks));
  if (failure) throw failure;
}

/** `migrate --just-folders`: the destination's folder tree, created (or with --dry-run, listed). */
export async function justFoldersMode(ctx: CliContext, json: boolean, accounts: Sides<ImapSideSpec>, policy: ConnectionPolicy, selection: FolderSelection, dryRun: boolean): Promise<void> {
  const { createFolderTree } = await import('../../jobs/folder-tree.js');
  const { imapStoreFor } = await import('../../jobs/imap-side.js');
  const { folderTreeText } = await import('../../reporting/folder-tree-report.js');
  const source = await imapStoreFor('source', accounts.source, policy, ctx.logger);
  const dest = await imapStoreFor('dest', accounts.dest, policy, ctx.logger);
  const result = await createFolderTree(source, dest, selection, dryRun);
  const exit = result.refused.length > 0 ? 'partial' : 'ok';
  ctx.out(json ? JSON.stringify({ command: 'migrate', justFolders: true, ...result, exitCode: exitStatus(exit) }, null, 2) : folderTreeText(result));
  ctx.exitStatus = exitStatus(exit);
}

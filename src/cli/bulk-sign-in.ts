import type { ListPasswords } from '../bulk/account-list.js';
import { OptionSecrets } from '../bulk/option-secrets.js';
import type { BulkSignInArgs } from './commands/bulk.js';
import type { CliContext } from './context.js';

/**
 * The campaign-wide sign-in of `bulk` and `worker` (the single-run options for every account, the
 * list's password columns, the one environment password per side), its passwords redacted from
 * every line from now on.
 */
export function campaignSignIn(argv: BulkSignInArgs, listPasswords: ListPasswords, ctx: Pick<CliContext, 'logger'>): OptionSecrets {
  const secrets = new OptionSecrets(
    {
      from: { passwordFile: argv['from-password-file'], oauth2TokenCommand: argv['from-oauth2-token-command'], oauth2: argv['from-oauth2'] },
      to: { passwordFile: argv['to-password-file'], oauth2TokenCommand: argv['to-oauth2-token-command'], oauth2: argv['to-oauth2'] },
    },
    listPasswords,
  );
  for (const s of secrets.secrets()) ctx.logger.addSecret(s);
  return secrets;
}

import type { SignInSpec } from '../auth/imap-credentials.js';
import type { BulkAccount } from './bulk-account.js';

/**
 * How the accounts of a campaign sign in, resolved on the machine that runs each account (a
 * worker uses its own password command, password directory, admin login or OAuth2 credential):
 * the account list, the status store and the queue carry URLs and options only.
 */
export interface AccountSecrets {
  /** One side's sign-in for one account, as the single-account jobs take it. */
  signIn(account: BulkAccount, word: 'from' | 'to'): Promise<SignInSpec>;
}

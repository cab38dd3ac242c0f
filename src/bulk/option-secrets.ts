import type { SignInSpec } from '../auth/imap-credentials.js';
import type { AccountSecrets } from './account-secrets.js';
import type { BulkAccount } from './bulk-account.js';
import type { ListPasswords } from './account-list.js';

/** The single-run sign-in options of one side, as a bulk command line gives them for every row. */
export interface SideSignIn {
  passwordFile?: string;
  oauth2TokenCommand?: string;
  oauth2?: string;
}

/**
 * Sign-in for every account from the campaign's own options: a row's password column (with
 * --allow-passwords-in-list), else the single-run options applied to every row (a password
 * file, a token command, a sign-in saved for the row's user), else the one password of
 * MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD, read once when the campaign starts.
 */
export class OptionSecrets implements AccountSecrets {
  private readonly envPasswords: Partial<Record<'from' | 'to', string>> = {};

  constructor(
    private readonly sides: Partial<Record<'from' | 'to', SideSignIn>>,
    private readonly listPasswords: ListPasswords,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    for (const word of ['from', 'to'] as const) {
      const name = `MAILFERRY_${word.toUpperCase()}_PASSWORD`;
      const value = env[name];
      // Read once: the runs of the accounts, and any command they start, never see it.
      delete env[name];
      if (value) this.envPasswords[word] = value;
    }
  }

  /** Every password these sources hold, for redaction. */
  secrets(): string[] {
    return [...Object.values(this.envPasswords), ...[...this.listPasswords.values()].flatMap((p) => Object.values(p))];
  }

  async signIn(account: BulkAccount, word: 'from' | 'to'): Promise<SignInSpec> {
    const side = this.sides[word] ?? {};
    const listed = this.listPasswords.get(account.key)?.[word];
    if (listed !== undefined) return { password: listed };
    if (side.passwordFile !== undefined || side.oauth2TokenCommand !== undefined || side.oauth2 !== undefined) return { ...side };
    const env = this.envPasswords[word];
    return { ...side, ...(env !== undefined ? { password: env } : {}) };
  }
}

import type { AccessTokenSource } from '../../auth/access-token.js';
import type { SignInSpec } from '../../auth/imap-credentials.js';
import { parseAccountUrl } from '../../config/account-url.js';
import { UsageError } from '../../errors/errors.js';
import type { AccountSecrets } from '../account-secrets.js';
import type { BulkAccount } from '../bulk-account.js';
import { fillTemplate, parseCommandTemplate } from './command-template.js';
import { loadServiceAccountKey, serviceAccountTokens } from './google-service-account.js';
import { clientCredentialTokens } from './ms-client-credentials.js';
import type { BulkSecretArgs } from './options.js';
import { PasswordDir } from './password-dir.js';
import { runPasswordArgv } from './password-command.js';

type Word = 'from' | 'to';
/** One side's sign-in for one account, from what the fallback says about it. */
type SideSource = (account: BulkAccount, fallback: SignInSpec) => Promise<SignInSpec>;

/**
 * The campaign's secrets: per side, the password command template, password directory, Google
 * service account or Microsoft 365 client credentials given for it, else the fallback's. Every
 * file and template is checked now, so a mistake stops the campaign before any account starts.
 */
export function bulkSecrets(argv: BulkSecretArgs, fallback: AccountSecrets): AccountSecrets {
  const sources: Record<Word, SideSource | undefined> = { from: sideSource(argv, 'from'), to: sideSource(argv, 'to') };
  return {
    async signIn(account, word) {
      const spec = await fallback.signIn(account, word);
      const source = sources[word];
      return source ? source(account, spec) : spec;
    },
  };
}

function sideSource(argv: BulkSecretArgs, word: Word): SideSource | undefined {
  const opt = (name: string): string => `--${word}-${name}`;
  const template = argv[`${word}-password-command`];
  const dir = argv[`${word}-password-dir`];
  const keyFile = argv[`${word}-google-service-account`];
  const ms = ([`${word}-ms-tenant`, `${word}-ms-client-id`, `${word}-ms-client-secret-file`, `${word}-ms-client-certificate`, `${word}-ms-authority`] as const).filter((k) => argv[k] !== undefined);
  const given = [
    template !== undefined && opt('password-command'),
    dir !== undefined && opt('password-dir'),
    keyFile !== undefined && opt('google-service-account'),
    ms.length > 0 && `--${ms[0]}`,
  ].filter((g): g is string => g !== false);
  if (given.length > 1) throw new UsageError(`${given[0]} and ${given[1]} both say how --${word} accounts sign in; give one`);

  if (template !== undefined) return templateSource(template, word);
  if (dir !== undefined) {
    const passwords = new PasswordDir(dir, opt('password-dir'));
    return async (account, spec) => withPassword(spec, await passwords.password(login(account, word)));
  }
  if (keyFile !== undefined) return googleSource(keyFile, word);
  if (ms.length > 0) return microsoftSource(argv, word);
  return undefined;
}

function templateSource(template: string, word: Word): SideSource {
  const option = `--${word}-password-command`;
  const parsed = parseCommandTemplate(template, option);
  return async (account, spec) => {
    const endpoint = parseAccountUrl(account[word], `--${word}`);
    const command = fillTemplate(parsed, { user: endpoint.user, host: endpoint.host, id: account.id }, option, `the row at ${account.origin.file}:${account.origin.line}`);
    return withPassword(spec, await runPasswordArgv(command, option));
  };
}

function googleSource(keyFile: string, word: Word): SideSource {
  const option = `--${word}-google-service-account`;
  const key = loadServiceAccountKey(keyFile, option);
  // One token source per mailbox: a token is for the user named as the JWT's subject.
  const perUser = new Map<string, AccessTokenSource>();
  return async (account, spec) => {
    const user = login(account, word);
    let tokens = perUser.get(user);
    if (!tokens) perUser.set(user, (tokens = serviceAccountTokens(key, user, option)));
    return { ...spec, tokens };
  };
}

function microsoftSource(argv: BulkSecretArgs, word: Word): SideSource {
  const opt = (name: string): string => `--${word}-${name}`;
  const tenant = argv[`${word}-ms-tenant`];
  const clientId = argv[`${word}-ms-client-id`];
  const secretFile = argv[`${word}-ms-client-secret-file`];
  const certificateFile = argv[`${word}-ms-client-certificate`];
  const proof = secretFile !== undefined ? { secretFile } : certificateFile !== undefined ? { certificateFile } : undefined;
  if (tenant === undefined || clientId === undefined || proof === undefined) {
    const missing = [tenant === undefined && opt('ms-tenant'), clientId === undefined && opt('ms-client-id'), proof === undefined && `${opt('ms-client-secret-file')} or ${opt('ms-client-certificate')}`];
    throw new UsageError(
      `Microsoft 365 client credentials need ${opt('ms-tenant')}, ${opt('ms-client-id')} and ${opt('ms-client-secret-file')} or ${opt('ms-client-certificate')}; missing ${missing.filter((m) => m).join(', ')}`,
    );
  }
  if (secretFile !== undefined && certificateFile !== undefined) throw new UsageError(`${opt('ms-client-secret-file')} and ${opt('ms-client-certificate')} both prove the app; give one`);
  // The app's token is the same for every mailbox of the tenant: one source for the side.
  const tokens = clientCredentialTokens({ tenant, clientId, proof, authority: argv[`${word}-ms-authority`] }, word);
  return async (_account, spec) => ({ ...spec, tokens });
}

/** The login of the account URL, percent-decoded: whose password or mailbox it is. */
function login(account: BulkAccount, word: Word): string {
  return parseAccountUrl(account[word], `--${word}`).user;
}

/** The side's password replaced; what else the fallback says (an authzid) stays. */
function withPassword(spec: SignInSpec, password: string): SignInSpec {
  return { ...spec, password, passwordFile: undefined, passwordCommand: undefined };
}

import { CachedTokenSource, type AccessTokenSource, type IssuedToken } from '../../auth/access-token.js';
import { postForm, tokenFields } from '../../auth/token-endpoint.js';
import { AuthError, UsageError } from '../../errors/errors.js';
import { readOwnerOnlyFileSync } from './owner-only-file.js';
import { refusalLine } from './refusal-line.js';
import { checkTokenUrl } from './token-url.js';

export const MS_AUTHORITY = 'https://login.microsoftonline.com';
/** App-only access to Exchange Online: the app's granted permissions (IMAP.AccessAsApp). */
export const MS_SCOPE = 'https://outlook.office365.com/.default';

export interface ClientCredentials {
  tenant: string;
  clientId: string;
  clientSecretFile: string;
  /** The identity platform's base URL; only a test gives another. */
  authority?: string;
}

/**
 * One app-only token for every mailbox of the tenant (OAuth2 client credentials grant): the
 * mailbox is the one named by the account URL's user in XOAUTH2, which Exchange allows when the
 * app's service principal has FullAccess on it. The secret file (0600) is read once, at start-up.
 */
export function clientCredentialTokens(c: ClientCredentials, word: 'from' | 'to'): AccessTokenSource {
  const option = `--${word}-ms-client-secret-file`;
  const secret = readOwnerOnlyFileSync(c.clientSecretFile, option).trim();
  if (!secret) throw new UsageError(`${option}: ${c.clientSecretFile} is empty`);
  if (!/^[\w.-]+$/.test(c.tenant)) throw new UsageError(`--${word}-ms-tenant: ${JSON.stringify(c.tenant)} is not a tenant ID or domain`);
  const authority = checkTokenUrl(c.authority ?? MS_AUTHORITY, `--${word}-ms-authority`);
  const tokenUrl = new URL(`${authority.pathname.replace(/\/$/, '')}/${c.tenant}/oauth2/v2.0/token`, authority).href;
  const issue = async (): Promise<IssuedToken> => {
    const answer = await postForm(tokenUrl, { grant_type: 'client_credentials', client_id: c.clientId, client_secret: secret, scope: MS_SCOPE });
    if (!answer.ok) throw new AuthError(`--${word}-ms-client-id: no app token for ${c.clientId} in tenant ${c.tenant} (${refusalLine(answer)})`);
    return tokenFields(answer.fields, authority.origin);
  };
  // Each token is registered for redaction where an account's run resolves its sign-in.
  return new CachedTokenSource(issue, () => {});
}

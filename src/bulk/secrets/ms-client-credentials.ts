import { CachedTokenSource, type AccessTokenSource, type IssuedToken } from '../../auth/access-token.js';
import { postForm, tokenFields } from '../../auth/token-endpoint.js';
import { AuthError, UsageError } from '../../errors/errors.js';
import { clientAssertion, loadClientCertificate } from './client-certificate.js';
import { readOwnerOnlyFileSync } from './owner-only-file.js';
import { refusalLine } from './refusal-line.js';
import { checkTokenUrl } from './token-url.js';

export const MS_AUTHORITY = 'https://login.microsoftonline.com';
/** App-only access to Exchange Online: the app's granted permissions (IMAP.AccessAsApp). */
export const MS_SCOPE = 'https://outlook.office365.com/.default';

export interface ClientCredentials {
  tenant: string;
  clientId: string;
  /** How the app proves itself: a file holding its client secret, or its certificate and key (both 0600). */
  proof: { secretFile: string } | { certificateFile: string };
  /** The identity platform's base URL; only a test gives another. */
  authority?: string;
}

/**
 * One app-only token for every mailbox of the tenant (OAuth2 client credentials grant): the
 * mailbox is the one named by the account URL's user in XOAUTH2, which Exchange allows when the
 * app's service principal has FullAccess on it. The secret or certificate is read once, at start-up.
 */
export function clientCredentialTokens(c: ClientCredentials, word: 'from' | 'to'): AccessTokenSource {
  if (!/^[\w.-]+$/.test(c.tenant)) throw new UsageError(`--${word}-ms-tenant: ${JSON.stringify(c.tenant)} is not a tenant ID or domain`);
  const authority = checkTokenUrl(c.authority ?? MS_AUTHORITY, `--${word}-ms-authority`);
  const tokenUrl = new URL(`${authority.pathname.replace(/\/$/, '')}/${c.tenant}/oauth2/v2.0/token`, authority).href;
  const proof = appProof(c, word, tokenUrl);
  const issue = async (): Promise<IssuedToken> => {
    const answer = await postForm(tokenUrl, { grant_type: 'client_credentials', client_id: c.clientId, scope: MS_SCOPE, ...proof() });
    if (!answer.ok) throw new AuthError(`--${word}-ms-client-id: no app token for ${c.clientId} in tenant ${c.tenant} (${refusalLine(answer)})`);
    return tokenFields(answer.fields, authority.origin);
  };
  // Each token is registered for redaction where an account's run resolves its sign-in.
  return new CachedTokenSource(issue, () => {});
}

/** The form fields that authenticate the app, made anew for each request. */
function appProof(c: ClientCredentials, word: 'from' | 'to', tokenUrl: string): () => Record<string, string> {
  if ('certificateFile' in c.proof) {
    const cert = loadClientCertificate(c.proof.certificateFile, `--${word}-ms-client-certificate`);
    return () => ({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: clientAssertion(cert, c.clientId, tokenUrl) });
  }
  const option = `--${word}-ms-client-secret-file`;
  const secret = readOwnerOnlyFileSync(c.proof.secretFile, option).trim();
  if (!secret) throw new UsageError(`${option}: ${c.proof.secretFile} is empty`);
  return () => ({ client_secret: secret });
}

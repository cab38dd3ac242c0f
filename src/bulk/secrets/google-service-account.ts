import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { CachedTokenSource, type AccessTokenSource, type IssuedToken } from '../../auth/access-token.js';
import { postForm, tokenFields } from '../../auth/token-endpoint.js';
import { AuthError, UsageError } from '../../errors/errors.js';
import { signedJwt } from './jwt-assertion.js';
import { readOwnerOnlyFileSync } from './owner-only-file.js';
import { refusalLine } from './refusal-line.js';
import { checkTokenUrl } from './token-url.js';

/** Full IMAP access, the scope the admin console grants the service account's client ID. */
export const GMAIL_SCOPE = 'https://mail.google.com/';
const LIFETIME_S = 3600;

/** The fields used of the JSON key Google issues for a service account. */
const keySchema = z.object({
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  private_key_id: z.string().optional(),
  client_id: z.string().optional(),
  token_uri: z.string().min(1),
});

export interface ServiceAccountKey {
  clientEmail: string;
  clientId?: string;
  privateKey: KeyObject;
  privateKeyId?: string;
  tokenUrl: string;
}

/** Reads and checks the key file (0600) once, when the campaign starts. */
export function loadServiceAccountKey(path: string, option: string): ServiceAccountKey {
  const text = readOwnerOnlyFileSync(path, option);
  let fields: z.infer<typeof keySchema>;
  try {
    fields = keySchema.parse(JSON.parse(text));
  } catch {
    throw new UsageError(`${option}: ${path} is not a service account key (JSON with client_email, private_key, token_uri)`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(fields.private_key);
  } catch {
    throw new UsageError(`${option}: the private_key in ${path} is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new UsageError(`${option}: the private_key in ${path} is not an RSA key`);
  const tokenUrl = checkTokenUrl(fields.token_uri, `${option} (token_uri)`).href;
  return { clientEmail: fields.client_email, clientId: fields.client_id, privateKey, privateKeyId: fields.private_key_id, tokenUrl };
}

/**
 * Access tokens for one user's mailbox through domain-wide delegation: a JWT naming the user as
 * `sub`, signed with the service account's key, exchanged at the token endpoint (RFC 7523 §2.1).
 * Asked again before each expiry, so a long account keeps going.
 */
export function serviceAccountTokens(key: ServiceAccountKey, user: string, option: string): AccessTokenSource {
  const issue = async (): Promise<IssuedToken> => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = { iss: key.clientEmail, sub: user, scope: GMAIL_SCOPE, aud: key.tokenUrl, iat, exp: iat + LIFETIME_S };
    const assertion = signedJwt(claims, key.privateKey, key.privateKeyId ? { kid: key.privateKeyId } : {});
    const answer = await postForm(key.tokenUrl, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
    if (!answer.ok) {
      const client = key.clientId ? `client ID ${key.clientId}` : key.clientEmail;
      throw new AuthError(`${option}: no token for ${user} (${refusalLine(answer)}); check that ${client} has domain-wide delegation with the scope ${GMAIL_SCOPE} and that ${user} exists`);
    }
    return tokenFields(answer.fields, new URL(key.tokenUrl).origin);
  };
  // Each token is registered for redaction where the account's run resolves its sign-in.
  return new CachedTokenSource(issue, () => {});
}

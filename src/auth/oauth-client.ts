import { AuthError } from '../errors/errors.js';
import { describeRefusal, postForm, tokenFields } from './token-endpoint.js';

/** An OAuth2 client registration as `mailferry login` uses it. */
export interface OAuthClient {
  clientId: string;
  /** Google desktop clients have one (not confidential, RFC 8252 §8.5); public Microsoft clients do not. */
  clientSecret?: string;
  tokenUrl: string;
  scopes: string[];
}

/** What a completed sign-in yields: the refresh token is what gets saved. */
export interface Granted {
  accessToken: string;
  refreshToken: string;
}

/** An OAuth2 error answer (RFC 6749 §5.2), e.g. the device flow's authorization_pending. */
export interface Refusal {
  error: string;
  description?: string;
}

/** Exchanges a grant at the token endpoint and insists on a refresh token (a run outlives the access token). */
export async function redeem(client: OAuthClient, grant: Record<string, string>, signal?: AbortSignal): Promise<{ granted: Granted } | { refused: Refusal }> {
  const answer = await postForm(client.tokenUrl, { ...grant, client_id: client.clientId, client_secret: client.clientSecret }, signal);
  if (!answer.ok) return { refused: answer };
  const t = tokenFields(answer.fields, new URL(client.tokenUrl).origin);
  if (!t.refreshToken) {
    throw new AuthError(`${new URL(client.tokenUrl).origin} issued no refresh token; the client needs offline access (Microsoft: the offline_access scope; Google: a Desktop client)`);
  }
  return { granted: { accessToken: t.accessToken, refreshToken: t.refreshToken } };
}

export function refusedSignIn(answer: Refusal): AuthError {
  return new AuthError(`sign-in refused: ${describeRefusal(answer)}`);
}

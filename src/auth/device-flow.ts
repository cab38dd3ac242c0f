import { AuthError, InterruptedError } from '../errors/errors.js';
import { redeem, refusedSignIn, type Granted, type OAuthClient } from './oauth-client.js';
import { postForm } from './token-endpoint.js';
import { counted } from '../reporting/plural.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.2: the interval when the device endpoint names none; §3.5: slow_down adds 5 s. */
const DEFAULT_INTERVAL_S = 5;
const SLOW_DOWN_S = 5;

/**
 * The device authorization grant (RFC 8628): the user opens a URL on any device and types a
 * short code, while mailferry polls the token endpoint. Works on a machine without a browser
 * (a server over ssh); Microsoft allows it for IMAP, Google does not for the mail scope.
 */
export async function deviceFlow(client: OAuthClient, deviceUrl: string, tell: (line: string) => void, signal?: AbortSignal): Promise<Granted> {
  const start = await postForm(deviceUrl, { client_id: client.clientId, client_secret: client.clientSecret, scope: client.scopes.join(' ') }, signal);
  if (!start.ok) throw refusedSignIn(start);
  const f = start.fields;
  // Google names it verification_url, RFC 8628 verification_uri.
  const verifyAt = f.verification_uri ?? f.verification_url;
  if (typeof f.device_code !== 'string' || typeof f.user_code !== 'string' || typeof verifyAt !== 'string') {
    throw new AuthError(`${new URL(deviceUrl).origin} answered without device_code, user_code and verification_uri`);
  }
  const expiresIn = typeof f.expires_in === 'number' ? f.expires_in : 900;
  let interval = typeof f.interval === 'number' && f.interval >= 0 ? f.interval : DEFAULT_INTERVAL_S;
  tell(`To sign in, open ${verifyAt} and enter the code ${f.user_code} (valid for ${counted(Math.round(expiresIn / 60), 'minute')}).`);

  const deadline = Date.now() + expiresIn * 1000;
  for (;;) {
    await sleep(interval * 1000, signal);
    const answer = await redeem(client, { grant_type: DEVICE_GRANT, device_code: f.device_code }, signal);
    if ('granted' in answer) return answer.granted;
    const refused = answer.refused;
    if (refused.error === 'authorization_pending') {
      if (Date.now() > deadline) throw new AuthError('the sign-in code expired before it was used; run mailferry login again');
      continue;
    }
    if (refused.error === 'slow_down') {
      interval += SLOW_DOWN_S;
      continue;
    }
    if (refused.error === 'expired_token') throw new AuthError('the sign-in code expired before it was used; run mailferry login again');
    if (refused.error === 'access_denied') throw new AuthError('the sign-in was declined');
    throw refusedSignIn(refused);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError('interrupted: not signed in'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new InterruptedError('interrupted: not signed in'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError, InterruptedError } from '../errors/errors.js';
import { redeem, refusedSignIn, type Granted, type OAuthClient } from './oauth-client.js';

/** How long the browser has to come back before login gives up. */
const WAIT_MS = 10 * 60_000;

/**
 * The authorization code grant with a loopback redirect and PKCE (RFC 8252 §7.3, RFC 7636), the
 * flow Google prescribes for desktop and command-line apps: the user opens the printed URL in a
 * browser on this machine, signs in, and the browser is sent back to a one-shot HTTP listener on
 * 127.0.0.1 with the code. `state` ties the answer to this request.
 */
export async function loopbackFlow(
  client: OAuthClient,
  authorizeUrl: string,
  loginHint: string,
  tell: (line: string) => void,
  signal?: AbortSignal,
): Promise<Granted> {
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const listener = createServer();
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  try {
    const redirectUri = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/`;
    const url = new URL(authorizeUrl);
    for (const [k, v] of Object.entries({
      client_id: client.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: client.scopes.join(' '),
      state,
      code_challenge: base64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      login_hint: loginHint,
      // Google issues a refresh token only for offline access, and again only with fresh consent.
      access_type: 'offline',
      prompt: 'consent',
    })) url.searchParams.set(k, v);
    tell(`To sign in, open this URL in a browser on this machine:\n${url.href}`);
    const code = await awaitRedirect(listener, state, signal);
    const answer = await redeem(client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, signal);
    if ('refused' in answer) throw refusedSignIn(answer.refused);
    return answer.granted;
  } finally {
    listener.close();
    listener.closeAllConnections();
  }
}

/** Resolves with the code of the first redirect that carries our `state`; other requests get a 404. */
function awaitRedirect(listener: ReturnType<typeof createServer>, state: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new AuthError('nobody came back from the browser in 10 minutes; run mailferry login again')), WAIT_MS);
    const onAbort = (): void => finish(new InterruptedError('interrupted: not signed in'));
    const finish = (outcome: string | Error): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      listener.off('request', onRequest);
      if (typeof outcome === 'string') resolve(outcome);
      else reject(outcome);
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const params = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
      if (params.get('state') !== state) {
        res.writeHead(404).end();
        return;
      }
      const error = params.get('error');
      const code = params.get('code');
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(error || !code ? 'Sign-in failed; see the terminal.\n' : 'Signed in to mailferry; you can close this tab.\n');
      finish(error || !code ? refusedSignIn({ error: error ?? 'no code', description: params.get('error_description') ?? undefined }) : code);
    };
    listener.on('request', onRequest);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function base64url(buf: Buffer): string {
  return buf.toString('base64url');
}

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local identity provider: device authorization (RFC 8628), authorization code with PKCE,
 * refresh grants (rotating the refresh token, as Microsoft does) and token introspection (RFC
 * 7662) for Dovecot's passdb oauth2. Each token belongs to the user the next sign-in is for.
 */
export class FakeIdentityProvider {
  readonly server: Server = createServer((req, res) => void this.handle(req, res));
  /** The user the next device or browser sign-in signs in as. */
  nextUser = '';
  /** The registered client, as `login --client-id` (and `--client-secret`, for the browser flow) must name it. */
  clientId = 'test-client';
  clientSecret = 'test-secret';
  readonly active = new Map<string, string>(); // access token -> user
  readonly refreshTokens = new Map<string, string>(); // refresh token -> user
  readonly grants: string[] = [];
  introspections = 0;
  private pendingPolls = 0;
  private serial = 0;
  private challenge = '';

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Makes every access token of `user` expire, as an hour of wall time would. */
  expireAccessTokens(user: string): void {
    for (const [t, u] of this.active) if (u === user) this.active.delete(t);
  }

  private issue(user: string, res: ServerResponse): void {
    const accessToken = `at-${user}-${++this.serial}`;
    const refreshToken = `rt-${user}-${this.serial}`;
    this.active.set(accessToken, user);
    this.refreshTokens.set(refreshToken, user);
    json(res, 200, { token_type: 'Bearer', access_token: accessToken, refresh_token: refreshToken, expires_in: 3600 });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    const form = new URLSearchParams(body);
    const path = new URL(req.url ?? '/', this.base).pathname;
    if (path === '/introspect') {
      this.introspections++;
      const user = this.active.get(form.get('token') ?? '');
      return json(res, 200, user ? { active: true, username: user } : { active: false });
    }
    if (path === '/device') {
      this.pendingPolls = 1;
      return json(res, 200, { device_code: 'dev-code', user_code: 'WDJB-MJHT', verification_uri: `${this.base}/activate`, expires_in: 600, interval: 0.05 });
    }
    if (path !== '/token') return json(res, 404, { error: 'not_found' });
    const grant = form.get('grant_type') ?? '';
    this.grants.push(grant);
    if (form.get('client_id') !== this.clientId) return json(res, 401, { error: 'invalid_client' });
    if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
      if (this.pendingPolls-- > 0) return json(res, 400, { error: 'authorization_pending' });
      return this.issue(this.nextUser, res);
    }
    if (grant === 'authorization_code') {
      const verifier = form.get('code_verifier') ?? '';
      const ok = form.get('code') === 'browser-code' && createHash('sha256').update(verifier).digest('base64url') === this.challenge && form.get('client_secret') === this.clientSecret;
      return ok ? this.issue(this.nextUser, res) : json(res, 400, { error: 'invalid_grant', error_description: 'bad code or verifier' });
    }
    if (grant === 'refresh_token') {
      const user = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!user) return json(res, 400, { error: 'invalid_grant', error_description: 'refresh token revoked' });
      this.refreshTokens.delete(form.get('refresh_token')!);
      return this.issue(user, res);
    }
    return json(res, 400, { error: 'unsupported_grant_type' });
  }

  /** The browser's part of the loopback flow: what the user's sign-in at `authorizeUrl` would do. */
  async completeBrowserSignIn(authorizeUrl: string): Promise<number> {
    const u = new URL(authorizeUrl);
    this.challenge = u.searchParams.get('code_challenge') ?? '';
    const back = new URL(u.searchParams.get('redirect_uri')!);
    back.searchParams.set('code', 'browser-code');
    back.searchParams.set('state', u.searchParams.get('state')!);
    return (await fetch(back)).status;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

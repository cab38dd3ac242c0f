import type { Profile } from '../config/profile-schema.js';
import { UsageError } from '../errors/errors.js';
import { deviceFlow } from './device-flow.js';
import { loopbackFlow } from './loopback-flow.js';
import type { OAuthClient } from './oauth-client.js';
import { signInPath, writeSignIn } from './sign-in-store.js';

export interface LoginRequest {
  /** A profile with `auth.oauth2`: where to sign in. */
  profile: Profile;
  /** The login the sign-in is saved for, as in the account URL. */
  user: string;
  clientId: string;
  clientSecret?: string;
  /** Default: the profile's. */
  flow?: 'device' | 'loopback';
  /** Replaces `{tenant}` in the profile's URLs (Microsoft: common, organizations, consumers or a tenant ID). */
  tenant?: string;
  /** Other endpoints than the profile's (a national cloud, or a test's local server). */
  endpoints: { authorizeUrl?: string; tokenUrl?: string; deviceUrl?: string };
  /** Shows the user what to open (stderr). */
  tell: (line: string) => void;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * `mailferry login`: signs the user in once, interactively, and saves the refresh token for later
 * runs (`--from-oauth2 PROFILE`). Returns where it was saved.
 */
export async function login(req: LoginRequest): Promise<string> {
  const o = req.profile.auth.oauth2;
  if (!o) throw new UsageError(`profile ${req.profile.name} has no built-in OAuth2 sign-in`);
  const tenant = req.tenant ?? o.tenant;
  const fill = (url: string | undefined, option: string): string | undefined => {
    if (url === undefined) return undefined;
    if (url.includes('{tenant}') && tenant === undefined) throw new UsageError(`${option} ${url} needs --tenant`);
    return tenant === undefined ? url : url.replaceAll('{tenant}', encodeURIComponent(tenant));
  };
  const client: OAuthClient = {
    clientId: req.clientId,
    clientSecret: req.clientSecret,
    tokenUrl: fill(req.endpoints.tokenUrl ?? o.tokenUrl, '--token-url')!,
    scopes: o.scopes,
  };
  const flow = req.flow ?? o.flow;
  let granted;
  if (flow === 'device') {
    const deviceUrl = fill(req.endpoints.deviceUrl ?? o.deviceUrl, '--device-url');
    if (!deviceUrl) throw new UsageError(`profile ${req.profile.name} has no device endpoint: use --flow loopback, or give --device-url`);
    granted = await deviceFlow(client, deviceUrl, req.tell, req.signal);
  } else {
    granted = await loopbackFlow(client, fill(req.endpoints.authorizeUrl ?? o.authorizeUrl, '--authorize-url')!, req.user, req.tell, req.signal);
  }
  const path = signInPath(req.profile.name, req.user, req.env);
  await writeSignIn(path, {
    version: 1,
    profile: req.profile.name,
    user: req.user,
    clientId: client.clientId,
    ...(client.clientSecret ? { clientSecret: client.clientSecret } : {}),
    tokenUrl: client.tokenUrl,
    scopes: client.scopes,
    refreshToken: granted.refreshToken,
    savedAt: new Date().toISOString(),
  });
  return path;
}

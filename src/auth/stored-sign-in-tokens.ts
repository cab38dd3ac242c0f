import { AuthError } from '../errors/errors.js';
import { CachedTokenSource, type AccessTokenSource, type IssuedToken } from './access-token.js';
import { readSignIn, signInPath, writeSignIn, type StoredSignIn } from './sign-in-store.js';
import { describeRefusal, postForm, tokenFields } from './token-endpoint.js';

/** `--from-oauth2 PROFILE[:LOGIN]`: which saved sign-in a side uses. */
export interface SignInRef {
  profile: string;
  /** The login the sign-in was saved for; the account URL's user unless given after ':'. */
  user: string;
  /** e.g. `--from-oauth2`, for messages. */
  option: string;
}

/** Parses `PROFILE` or `PROFILE:LOGIN` (the latter for a mailbox reached with someone else's sign-in). */
export function parseSignInRef(value: string, urlUser: string, option: string): SignInRef {
  const colon = value.indexOf(':');
  return colon < 0 ? { profile: value, user: urlUser, option } : { profile: value.slice(0, colon), user: value.slice(colon + 1) || urlUser, option };
}

/**
 * Access tokens from the refresh token `mailferry login` saved (RFC 6749 §6), refreshed whenever
 * a connection is opened within two minutes of expiry or a token is refused, so a run of any
 * length stays signed in. The file is read now, so a missing sign-in stops the run before it
 * starts. A provider that rotates refresh tokens (Microsoft) gets the new one saved.
 */
export async function storedSignInTokens(
  ref: SignInRef,
  onSecret: (secret: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = () => {},
): Promise<AccessTokenSource> {
  const path = signInPath(ref.profile, ref.user, env);
  const loginHint = `mailferry login ${ref.profile} --user ${ref.user}`;
  let signIn = await readSignIn(path, ref.option, loginHint);
  onSecret(signIn.refreshToken);
  if (signIn.clientSecret) onSecret(signIn.clientSecret);
  const refresh = async (): Promise<IssuedToken> => {
    const answer = await postForm(signIn.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: signIn.refreshToken,
      client_id: signIn.clientId,
      client_secret: signIn.clientSecret,
    });
    if (!answer.ok) {
      throw new AuthError(`${ref.option}: the saved sign-in for ${ref.user} was refused (${describeRefusal(answer)}); run ${loginHint} again`);
    }
    const t = tokenFields(answer.fields, new URL(signIn.tokenUrl).origin);
    if (t.refreshToken && t.refreshToken !== signIn.refreshToken) {
      onSecret(t.refreshToken);
      signIn = { ...signIn, refreshToken: t.refreshToken, savedAt: new Date().toISOString() } satisfies StoredSignIn;
      // The run has its token and keeps the new refresh token in memory: a file that cannot be
      // written (disk full, read-only) is worth a warning, not the end of a run hours long.
      await writeSignIn(path, signIn).catch((err: unknown) =>
        warn(`${ref.option}: could not save the renewed sign-in to ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}); this run goes on, but a later one may need ${loginHint} again`),
      );
    }
    return { accessToken: t.accessToken, expiresIn: t.expiresIn };
  };
  return new CachedTokenSource(refresh, onSecret);
}

import type { ImapEndpoint } from '../config/account-url.js';
import { resolvePassword } from '../config/secrets.js';
import { UsageError } from '../errors/errors.js';
import { CachedTokenSource, type AccessTokenSource } from './access-token.js';
import { parseSignInRef, storedSignInTokens } from './stored-sign-in-tokens.js';
import { runTokenCommand } from './token-command.js';

/** How one side logs in: a password (optionally for another user's mailbox), or OAuth2 bearer tokens. */
export type ImapCredentials =
  | {
      kind: 'password';
      password: string;
      /** SASL PLAIN authorization identity: the URL's user (an administrator) acts as this user. */
      authzid?: string;
    }
  | { kind: 'oauth2'; tokens: AccessTokenSource };

/** The sign-in options of one side, as given on the command line (or to the library API). */
export interface SignInSpec {
  /** The password itself, as a program hands it over (the library API); no other source is then read. */
  password?: string;
  passwordFile?: string;
  passwordCommand?: string;
  authzid?: string;
  oauth2TokenCommand?: string;
  /** `PROFILE[:LOGIN]`: a sign-in saved by `mailferry login`. */
  oauth2?: string;
  /** OAuth2 access tokens as a program hands them over (bulk's app credentials); never an option. */
  tokens?: AccessTokenSource;
}

export interface SecretSink {
  addSecret(secret: string): void;
  warn(message: string): void;
}

/**
 * Decides how a side logs in and gets what it needs up front (a password, or a first look at the
 * saved sign-in), so that a missing secret stops the run before anything is copied.
 */
export async function resolveCredentials(
  word: 'from' | 'to',
  spec: SignInSpec,
  endpoint: ImapEndpoint,
  prompt: ((question: string) => Promise<string>) | undefined,
  log: SecretSink,
): Promise<ImapCredentials> {
  const option = `--${word}`;
  const oauth =
    spec.tokens !== undefined ? `${option}'s OAuth2 app credential` : spec.oauth2TokenCommand !== undefined ? `${option}-oauth2-token-command` : spec.oauth2 !== undefined ? `${option}-oauth2` : undefined;
  if (oauth) {
    const clash = [
      spec.tokens !== undefined && spec.oauth2TokenCommand !== undefined && `${option}-oauth2-token-command`,
      (spec.tokens !== undefined || spec.oauth2TokenCommand !== undefined) && spec.oauth2 !== undefined && `${option}-oauth2`,
      spec.password !== undefined && 'a password',
      spec.passwordFile !== undefined && `${option}-password-file`,
      spec.passwordCommand !== undefined && `${option}-password-command`,
      endpoint.password !== undefined && 'a password in the URL',
      // OAuth2 names the mailbox in the URL's user; an administrator's token may open it.
      spec.authzid !== undefined && `${option}-authzid (SASL PLAIN only)`,
    ].find((c) => c);
    if (clash) throw new UsageError(`${oauth} cannot be combined with ${clash}`);
    // Not used with OAuth2, and the token command need not inherit it.
    delete process.env[`MAILFERRY_${word.toUpperCase()}_PASSWORD`];
    const onToken = (t: string): void => log.addSecret(t);
    const tokens =
      spec.tokens !== undefined
        ? registeredTokens(spec.tokens, onToken)
        : spec.oauth2TokenCommand !== undefined
        ? new CachedTokenSource(() => runTokenCommand(spec.oauth2TokenCommand!, oauth), onToken)
        : await storedSignInTokens(parseSignInRef(spec.oauth2!, endpoint.user, oauth), onToken, process.env, (m) => log.warn(m));
    return { kind: 'oauth2', tokens };
  }
  if (spec.authzid === '') throw new UsageError(`${option}-authzid: empty user`);
  if (spec.password === '') throw new UsageError(`${option}: the password given is empty`);
  const password = spec.password ?? await resolvePassword(
    {
      envVar: `MAILFERRY_${word.toUpperCase()}_PASSWORD`,
      file: spec.passwordFile,
      command: spec.passwordCommand,
      inUrl: endpoint.password,
      option,
      prompt,
    },
    process.env,
    (m) => log.warn(m),
  );
  log.addSecret(password);
  return { kind: 'password', password, ...(spec.authzid !== undefined ? { authzid: spec.authzid } : {}) };
}

/** A source handed over by a program: each token it gives is registered for redaction on its way out. */
function registeredTokens(source: AccessTokenSource, onToken: (token: string) => void): AccessTokenSource {
  return {
    token: async () => {
      const t = await source.token();
      onToken(t);
      return t;
    },
    invalidate: (t) => source.invalidate(t),
  };
}

/**
 * Where OAuth2 access tokens come from while a run goes on. Tokens expire (Google and Microsoft:
 * after about an hour) while a migration may take days, so a token is asked for each time a
 * connection is opened, never kept for the run.
 */
export interface AccessTokenSource {
  /** A token believed valid now: cached until shortly before it expires, or until `invalidate`. */
  token(): Promise<string>;
  /** The server refused `token`: the next `token()` gets a new one. */
  invalidate(token: string): void;
}

/** A token as an issuer hands it out. */
export interface IssuedToken {
  accessToken: string;
  /** Seconds from now, when the issuer says (the token endpoint's `expires_in`). */
  expiresIn?: number;
}

/** A token this close to its expiry is not used for a new connection: logging in takes time too. */
const EXPIRY_MARGIN_MS = 120_000;

/**
 * Caches what `issue` hands out and asks again when it is about to expire or was refused.
 * Connections opened at the same moment share one request to the issuer.
 */
export class CachedTokenSource implements AccessTokenSource {
  private current?: { token: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly issue: () => Promise<IssuedToken>,
    /** Told every new token, so the logger can redact it. */
    private readonly onToken: (token: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  token(): Promise<string> {
    if (this.current && this.now() < this.current.expiresAt - EXPIRY_MARGIN_MS) return Promise.resolve(this.current.token);
    this.pending ??= this.issue()
      .then((t) => {
        this.onToken(t.accessToken);
        this.current = { token: t.accessToken, expiresAt: t.expiresIn !== undefined ? this.now() + t.expiresIn * 1000 : Infinity };
        return t.accessToken;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }
}

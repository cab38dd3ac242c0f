import { AuthError, ConnectionError } from '../errors/errors.js';

/** What an OAuth2 token endpoint (RFC 6749 §5) or device endpoint (RFC 8628 §3.2) answered. */
export type EndpointAnswer = { ok: true; fields: Record<string, unknown> } | { ok: false; error: string; description?: string };

const TIMEOUT_MS = 30_000;

/**
 * POSTs an application/x-www-form-urlencoded request and reads the JSON answer. An unreachable
 * endpoint is a ConnectionError (a run retries it like a broken IMAP connection); an answer that
 * is not OAuth2 JSON is an AuthError.
 */
export async function postForm(url: string, form: Record<string, string | undefined>, signal?: AbortSignal): Promise<EndpointAnswer> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) body.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new ConnectionError(`cannot reach ${new URL(url).origin}: ${cause}`, { cause: err });
  }
  let fields: unknown;
  try {
    fields = await res.json();
  } catch (err) {
    // Only a body that arrived whole and is not JSON is the endpoint's answer; a body cut off
    // (connection reset, the timeout) is a broken connection like any other.
    if (!(err instanceof SyntaxError)) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new ConnectionError(`lost the connection to ${new URL(url).origin} while reading its answer: ${cause}`, { cause: err });
    }
    throw new AuthError(`${new URL(url).origin} answered HTTP ${res.status} without JSON`);
  }
  if (typeof fields !== 'object' || fields === null) throw new AuthError(`${new URL(url).origin} answered HTTP ${res.status} with unexpected JSON`);
  const f = fields as Record<string, unknown>;
  if (typeof f.error === 'string') return { ok: false, error: f.error, description: typeof f.error_description === 'string' ? f.error_description : undefined };
  if (!res.ok) throw new AuthError(`${new URL(url).origin} answered HTTP ${res.status}`);
  return { ok: true, fields: f };
}

/** The token fields of a successful token response (RFC 6749 §5.1). */
export function tokenFields(fields: Record<string, unknown>, origin: string): { accessToken: string; expiresIn?: number; refreshToken?: string } {
  if (typeof fields.access_token !== 'string' || !fields.access_token) throw new AuthError(`${origin} answered without an access_token`);
  const expires = typeof fields.expires_in === 'string' ? Number(fields.expires_in) : fields.expires_in;
  return {
    accessToken: fields.access_token,
    expiresIn: typeof expires === 'number' && Number.isFinite(expires) ? expires : undefined,
    refreshToken: typeof fields.refresh_token === 'string' && fields.refresh_token ? fields.refresh_token : undefined,
  };
}

export function describeRefusal(a: { error: string; description?: string }): string {
  return a.description ? `${a.error}: ${a.description}` : a.error;
}

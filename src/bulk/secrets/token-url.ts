import { isLoopback } from '../../config/account-url.js';
import { UsageError } from '../../errors/errors.js';

/**
 * A token endpoint to send a credential to: https, or http to this machine only (a test's
 * endpoint). An assertion or client secret sent in clear would be anyone's on the path.
 */
export function checkTokenUrl(text: string, option: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${option}: ${JSON.stringify(text)} is not a URL`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(host))) return url;
  throw new UsageError(`${option}: the token endpoint ${url.origin} must be https:// (http:// only on this machine)`);
}

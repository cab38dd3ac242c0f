import { sign, type KeyObject } from 'node:crypto';

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/**
 * A JWT signed RS256 (RSASSA-PKCS1-v1_5 with SHA-256), as the JWT bearer grant (RFC 7523 §2.1)
 * and client authentication (RFC 7523 §2.2) take it: header.claims.signature. `header` adds to
 * {alg, typ} what names the key (Google's `kid`, Microsoft's `x5t`).
 */
export function signedJwt(claims: object, privateKey: KeyObject, header: Record<string, string> = {}): string {
  const input = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', ...header }))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${base64url(sign('sha256', Buffer.from(input), privateKey))}`;
}

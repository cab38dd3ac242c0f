import { sign, type KeyObject } from 'node:crypto';

/** The claims of a JWT bearer assertion (RFC 7523 §3) as Google's service accounts make them. */
export interface AssertionClaims {
  /** The service account (client_email). */
  iss: string;
  /** The user whose mailbox the token is for (domain-wide delegation). */
  sub: string;
  scope: string;
  /** The token endpoint. */
  aud: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** header.claims.signature, signed RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with the account's private key. */
export function signedAssertion(claims: AssertionClaims, privateKey: KeyObject, keyId?: string): string {
  const header = { alg: 'RS256', typ: 'JWT', ...(keyId ? { kid: keyId } : {}) };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${base64url(sign('sha256', Buffer.from(input), privateKey))}`;
}

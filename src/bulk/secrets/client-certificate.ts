import { createHash, createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { UsageError } from '../../errors/errors.js';
import { signedJwt } from './jwt-assertion.js';
import { readOwnerOnlyFileSync } from './owner-only-file.js';

/** An app's certificate and its private key, from one PEM file (0600). */
export interface ClientCertificate {
  privateKey: KeyObject;
  /** The certificate's SHA-1 thumbprint, base64url: how Microsoft finds the certificate uploaded to the app. */
  x5t: string;
}

export function loadClientCertificate(path: string, option: string): ClientCertificate {
  const text = readOwnerOnlyFileSync(path, option);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  if (!pem) throw new UsageError(`${option}: ${path} holds no certificate (PEM: the certificate and its private key)`);
  let privateKey: KeyObject;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
    privateKey = createPrivateKey(text);
  } catch {
    throw new UsageError(`${option}: ${path} must hold a PEM certificate and its unencrypted private key`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new UsageError(`${option}: the key in ${path} is not an RSA key`);
  if (!certificate.checkPrivateKey(privateKey)) throw new UsageError(`${option}: the private key in ${path} is not the certificate's`);
  return { privateKey, x5t: createHash('sha1').update(certificate.raw).digest('base64url') };
}

/**
 * The client's proof of the certificate for one token request (RFC 7523 §2.2, Microsoft's
 * "certificate credentials"): short-lived, for the token endpoint only, never used twice.
 */
export function clientAssertion(cert: ClientCertificate, clientId: string, tokenUrl: string): string {
  const now = Math.floor(Date.now() / 1000);
  return signedJwt({ aud: tokenUrl, iss: clientId, sub: clientId, jti: randomUUID(), nbf: now, iat: now, exp: now + 600 }, cert.privateKey, { x5t: cert.x5t });
}

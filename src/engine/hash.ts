import { createHash } from 'node:crypto';

/** A message's identity: the SHA-256 of its raw bytes as the server returned them. */
export function sha256(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

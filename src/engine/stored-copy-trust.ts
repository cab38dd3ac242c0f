import { MessageShape } from './message-shape.js';

/**
 * What a run has seen its destination store, by kind of message, so that the FETCH after each
 * APPEND (stored-copy.ts) can be left out once it only ever confirms: a round trip per batch, and
 * per folder, on a far link (1k subset over TLS at 100 ms: 3.84–4.15 s without it against
 * 4.50–4.90 s).
 *
 * A server alters a kind of message alike every time (Cyrus each 8-bit header byte, Exchange
 * every message it converts), so once `TRUSTED_AFTER` messages of a kind came back as sent and
 * none came back altered, that kind is no longer read back in this run. Messages a known server
 * alters in ways that change with their bytes (NUL, a CR or LF outside CRLF, no final CRLF) are
 * always read back. Left out, a copy's stored bytes are taken to be the ones sent: where a
 * server altered one anyway, its journal row lacks the stored hash, and a cutover
 * (`--propagate-deletes`) leaves that copy and says so rather than remove it.
 */
export class StoredCopyTrust {
  private readonly seen: Record<TrustedKind, { asSent: number; altered: boolean }> = {
    plain: { asSent: 0, altered: false },
    'eight-bit-header': { asSent: 0, altered: false },
  };

  /** Whether a message of this kind (`kindOf`) must be read back after its APPEND. */
  mustLook(kind: MessageKind): boolean {
    if (kind === 'other') return true;
    const s = this.seen[kind];
    return s.altered || s.asSent < TRUSTED_AFTER;
  }

  /** A message of this kind read back after its APPEND: stored as sent, or not. */
  looked(kind: MessageKind, asSent: boolean): void {
    if (kind === 'other') return;
    if (asSent) this.seen[kind].asSent++;
    else this.seen[kind].altered = true;
  }
}

type TrustedKind = 'plain' | 'eight-bit-header';
export type MessageKind = TrustedKind | 'other';

/** Messages of a kind seen stored as sent before the kind is trusted. */
const TRUSTED_AFTER = 100;

/**
 * `other`: a NUL, a CR or LF not part of a CRLF, or no final CRLF (what Dovecot and Courier
 * rewrite); `eight-bit-header`: otherwise plain, with a byte of 0x80 or more in the header (what
 * Cyrus rewrites); `plain`: neither.
 */
export function kindOf(raw: Buffer): MessageKind {
  return new MessageShape().update(raw).kind;
}

import type { ImapFlow } from 'imapflow';
import { encodePath } from 'imapflow/lib/tools.js';
import type { StreamedAppend } from '../store.js';
import { LiteralStream } from './imapflow-client.js';
import { appendAttributes, sendAppend } from './multi-append.js';

/**
 * APPEND of one message whose bytes are still arriving: its size goes first as a LITERAL+
 * literal (RFC 7888, which lets the client send it without waiting for the server), then its
 * chunks as they come (imapflow-client.ts `LiteralStream`), then the CRLF that ends the command.
 * Without LITERAL+ the server would have to say "+" first, and a synchronising literal cannot be
 * abandoned halfway without closing the connection anyway: only a LITERAL+ server is asked.
 *
 * A message that contains a NUL would be sent as a literal8 by the buffered APPEND; a streamed
 * one is sent as a plain literal (its bytes are not known ahead), which a server may alter (Dovecot
 * makes it 0x80), as the look after the APPEND then records (stored-copy.ts).
 *
 * Settles once the whole literal went out, or was abandoned with the connection: never while the
 * caller's body may still be taken. Answers the new UID, when the server gave it.
 */
export async function streamedAppend(client: ImapFlow, path: string, message: StreamedAppend): Promise<number | undefined> {
  const literal = new LiteralStream(message.size, message.body);
  const attributes = [{ type: 'ATOM', value: encodePath(client, path) }, ...appendAttributes(message), { type: 'LITERAL', value: literal }];
  const answer = await sendAppend(client, attributes, { literalPlus: true }).then((uids) => ({ uids }), (error: unknown) => ({ error }));
  // A command refused before its literal went out never took the body; one under way is waited for,
  // and what stopped its literal is why it failed.
  if (literal.queued) await literal.written;
  if ('error' in answer) throw answer.error;
  return answer.uids[0];
}

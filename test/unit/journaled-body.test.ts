import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { journaledBody } from '../../src/engine/journaled-body.js';
import { MessageShape } from '../../src/engine/message-shape.js';

async function* source(chunks: Buffer[], log: string[]): AsyncGenerator<Buffer> {
  try {
    for (const c of chunks) yield c;
  } finally {
    log.push('source left');
  }
}

describe('a streamed message body, hashed on its way, its intent journaled before its last chunk', () => {
  const chunks = [Buffer.from('Subject: a\r\n\r\n'), Buffer.from('first half, '), Buffer.from('last half\r\n')];
  const raw = Buffer.concat(chunks);

  it('calls beforeLast with the SHA-256 of all the bytes before it hands on the last chunk', async () => {
    const log: string[] = [];
    const rest = source(chunks, log);
    const first = (await rest.next()).value as Buffer;
    const shape = new MessageShape();
    for await (const chunk of journaledBody(first, rest, raw.length, (sha256) => log.push(`journal ${sha256} ${shape.kind}`), shape)) log.push(`sent ${chunk.toString()}`);
    const sha = createHash('sha256').update(raw).digest('hex');
    expect(log).toEqual(['sent Subject: a\r\n\r\n', 'sent first half, ', `journal ${sha} plain`, 'sent last half\r\n', 'source left']);
  });

  it('left before its end (its APPEND abandoned), journals nothing and lets the source stop', async () => {
    const log: string[] = [];
    const rest = source(chunks, log);
    const first = (await rest.next()).value as Buffer;
    const body = journaledBody(first, rest, raw.length, () => log.push('journal'));
    for await (const chunk of body) {
      log.push(`sent ${chunk.length}`);
      break;
    }
    expect(log).toEqual(['sent 14', 'source left']);
  });
});

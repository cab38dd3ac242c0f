// COMPRESS=DEFLATE (RFC 4978): against a server that offers it, mailferry's sessions are
// compressed, so text mail crosses a capped link in a fraction of its size. Measured by the bytes
// that cross a proxy between mailferry and a real Dovecot that loads imap_zlib.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli } from './support/cli.js';
import { startSlowLink, type SlowLink } from './support/slow-link.js';

const PASSWORD = 'pw-Compress-1';
/** Plain-text mail: what compression helps most, and what a backup of a mailbox mostly is. */
const CORPUS = { seed: 4978, messages: 300, folders: 4, textHeavy: true };
/** A deflated text corpus is well under half its size; uncompressed IMAP adds to it. */
const COMPRESSED_SHARE = 0.5;

let server: DovecotServer;
let link: SlowLink;
let rawBytes = 0;
const work = mkdtempSync(join(tmpdir(), 'mf-compress-'));

beforeAll(async () => {
  server = await startDovecot({ users: [{ name: 'src', password: PASSWORD }], compress: true });
  const seeded = await seedAccount({ host: server.host, port: server.port, user: 'src', password: PASSWORD }, generateCorpus(CORPUS), { folders: corpusFolders(CORPUS) });
  rawBytes = seeded.bytes;
  // Unlimited in effect: the link is here to count what the server sends over implicit TLS.
  link = await startSlowLink({ host: server.host, port: server.tlsPort }, 1e9, 'down');
}, 120_000);

afterAll(async () => {
  await link?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

function maildirFiles(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && ['cur', 'new'].includes(basename(e.parentPath))).length;
}

describe('COMPRESS=DEFLATE', () => {
  it('a backup from a server offering COMPRESS=DEFLATE downloads its text mail compressed, complete', async () => {
    const dir = join(work, 'backup');
    const r = await runCli(
      ['backup', '--from', `imaps://src@127.0.0.1:${link.port}`, '--from-ca', server.caFile, '--to', dir, '--format', 'maildir', '--json'],
      { MAILFERRY_FROM_PASSWORD: PASSWORD },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(maildirFiles(dir)).toBe(CORPUS.messages);
    // Everything the server sent over TLS (greeting, listings, every message) against the
    // messages' own size: uncompressed it could not be less than the messages.
    expect(link.bytes).toBeGreaterThan(0);
    expect(link.bytes).toBeLessThan(COMPRESSED_SHARE * rawBytes);
  });
});

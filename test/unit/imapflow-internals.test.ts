import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as tools from 'imapflow/lib/tools.js';
import { ImapFlow } from '../../src/stores/imap/imapflow-client.js';

/**
 * mailferry reaches past imapflow's public API in a few places (src/stores/imap: the private
 * lib/tools.js helpers, the compiler wrap in imapflow-client.ts, `exec`, `folders`,
 * `authCapabilities`). package.json pins the exact version these were written against; an upgrade
 * must keep every one of them, and each failure here names the one that moved.
 */
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
const installed = (require('imapflow/package.json') as { version: string }).version;

describe('imapflow internals mailferry depends on', () => {
  it('is pinned to one exact version, the one installed', () => {
    expect(pkg.dependencies.imapflow, 'package.json must pin imapflow exactly (no ^ or ~): its internals are patched').toMatch(/^\d+\.\d+\.\d+$/);
    expect(installed, `installed imapflow ${installed} is not the pinned ${pkg.dependencies.imapflow}`).toBe(pkg.dependencies.imapflow);
  });

  it('lib/tools.js still exports the helpers imported from it, with the same behaviour', () => {
    for (const name of ['getStatusCode', 'encodePath', 'normalizePath', 'formatDateTime', 'formatFlag'] as const) {
      expect(typeof tools[name], `imapflow/lib/tools.js no longer exports ${name}`).toBe('function');
    }
    const response = { attributes: [{ section: [{ type: 'ATOM', value: 'alreadyexists' }] }] };
    expect(tools.getStatusCode(response as Parameters<typeof tools.getStatusCode>[0]), 'getStatusCode reads the response code').toBe('ALREADYEXISTS');
    const connection = { enabled: new Set<string>(), capabilities: new Map<string, boolean>(), namespace: { prefix: 'INBOX.', delimiter: '.' } };
    const client = connection as unknown as Parameters<typeof tools.encodePath>[0];
    expect(tools.encodePath(client, 'Entwürfe'), 'encodePath encodes modified UTF-7 without UTF8=ACCEPT').toBe('Entw&APw-rfe');
    expect(tools.normalizePath(client, ['Work', 'Q1']), 'normalizePath joins with the delimiter and adds the namespace prefix').toBe('INBOX.Work.Q1');
    expect(tools.normalizePath(client, 'inbox'), 'normalizePath maps any INBOX case to INBOX').toBe('INBOX');
    expect(tools.formatDateTime(new Date(Date.UTC(2024, 0, 5, 3, 4, 5))), 'formatDateTime gives an IMAP date-time').toBe(' 5-Jan-2024 03:04:05 +0000');
    expect(tools.formatFlag('\\seen'), 'formatFlag capitalises system flags').toBe('\\Seen');
    expect(tools.formatFlag('\\Recent'), 'formatFlag refuses \\Recent').toBe(false);
  });

  it('the command compiler wrap in imapflow-client.ts still sends LITERAL+ literals', async () => {
    const handler = require('imapflow/lib/handler/imap-handler.js') as { compiler?: unknown };
    expect(typeof handler.compiler, 'imapflow/lib/handler/imap-handler.js no longer exports compiler, which imapflow-client.ts wraps').toBe('function');
    const client = new ImapFlow({ host: 'localhost', port: 1, logger: false });
    const sent: string[] = [];
    const internals = client as unknown as { write(chunk: unknown): void; send(data: unknown): Promise<void> };
    expect(typeof internals.send, 'ImapFlow#send (where commands are compiled) is gone').toBe('function');
    internals.write = (chunk) => sent.push(String(chunk));
    // Over 4096 bytes: LITERAL- alone would make it a synchronizing literal.
    const literal = 'x'.repeat(5000);
    await internals.send({ tag: 'A1', command: 'APPEND', attributes: [{ type: 'ATOM', value: 'INBOX' }, { type: 'LITERAL', value: literal }], options: { literalPlus: true } });
    expect(sent[0], 'ImapFlow#send no longer looks the compiler up on imap-handler.js at each call: APPEND would wait for "+" per message').toContain('{5000+}\r\n' + literal);
  });

  it('ImapFlow still has the private members mailferry uses', () => {
    const client = new ImapFlow({ host: 'localhost', port: 1, logger: false }) as unknown as Record<string, unknown>;
    expect(typeof client.exec, 'ImapFlow#exec (raw commands: CREATE, MULTIAPPEND) is gone').toBe('function');
    expect(client.folders, 'ImapFlow#folders (the folder cache imap-store.ts clears) is no longer a Map').toBeInstanceOf(Map);
    expect(client.authCapabilities, 'ImapFlow#authCapabilities (the mechanism logged in with) is no longer a Map').toBeInstanceOf(Map);
    expect(Array.isArray(client.requestQueue), 'ImapFlow#requestQueue (keep-alive.ts: is a command waiting?) is no longer an array').toBe(true);
    expect('currentRequest' in client, 'ImapFlow#currentRequest (keep-alive.ts: is a command under way?) is gone').toBe(true);
  });
});

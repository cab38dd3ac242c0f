import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as tools from 'imapflow/lib/tools.js';
import { ImapFlow, LiteralStream } from '../../src/stores/imap/imapflow-client.js';

/**
 * mailferry reaches past imapflow's public API in a few places (src/stores/imap: the private
 * lib/tools.js helpers, the compiler wrap in imapflow-client.ts, `exec`, `folders`,
 * `authCapabilities`). package.json pins the exact version these were written against; an upgrade
 * must keep every one of them, and each failure here names the one that moved.
 */
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
const installed = (require('imapflow/package.json') as { version: string }).version;

/** An ImapFlow whose socket records what is written to it; `takes`: whether it asks for no pause (write answers true). */
function connected(takes = true): { client: { send(data: unknown): Promise<void>; write(chunk: unknown): void }; written: Buffer[]; socket: EventEmitter } {
  const client = new ImapFlow({ host: 'localhost', port: 1, logger: false }) as unknown as Record<string, unknown>;
  const written: Buffer[] = [];
  const socket = Object.assign(new EventEmitter(), { destroyed: false, write: (b: Buffer) => written.push(b) > 0 && takes });
  Object.assign(client, { socket, writeSocket: socket });
  return { client: client as unknown as { send(data: unknown): Promise<void>; write(chunk: unknown): void }, written, socket };
}

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

  it('the command compiler wrap in imapflow-client.ts still sends LITERAL+ literals, each message as the buffer it was given', async () => {
    const handler = require('imapflow/lib/handler/imap-handler.js') as { compiler?: unknown };
    expect(typeof handler.compiler, 'imapflow/lib/handler/imap-handler.js no longer exports compiler, which imapflow-client.ts wraps').toBe('function');
    const { client, written } = connected();
    expect(typeof client.send, 'ImapFlow#send (where commands are compiled) is gone').toBe('function');
    // Over 4096 bytes: LITERAL- alone would make it a synchronizing literal.
    const first = Buffer.from('x'.repeat(5000));
    // The last over 64 KB: imapflow writes the final CRLF after a large buffer instead of copying it.
    const second = Buffer.from('y'.repeat(70_000));
    const attributes = [{ type: 'ATOM', value: 'INBOX' }, [{ type: 'ATOM', value: '\\Seen' }], { type: 'LITERAL', value: first }, [], { type: 'STRING', value: ' 5-Jan-2024 03:04:05 +0000' }, { type: 'LITERAL', value: second }];
    await client.send({ tag: 'A1', command: 'APPEND', attributes, options: { literalPlus: true } });
    expect(Buffer.concat(written).toString(), 'ImapFlow#send no longer looks the compiler up on imap-handler.js at each call: APPEND would wait for "+" per message').toBe(
      `A1 APPEND INBOX (\\Seen) {5000+}\r\n${first} () " 5-Jan-2024 03:04:05 +0000" {70000+}\r\n${second}\r\n`,
    );
    expect(written.includes(first) && written.includes(second), 'a message was copied into the command instead of written as it is').toBe(true);
  });

  it('ImapFlow#write, wrapped, gives the socket a large buffer a slice at a time, the next only after "drain"', () => {
    const { client, written, socket } = connected(false);
    const message = Buffer.alloc(1 << 20, 0x61);
    client.write(message);
    client.write('A2 NOOP');
    expect(written, 'the whole message went to the socket at once: over TLS its ciphertext would wait in memory beside it').toHaveLength(1);
    expect(written[0]!.length).toBe(256 * 1024);
    for (let i = 0; i < 8 && written.length < 6; i++) socket.emit('drain');
    expect(written.map((b) => b.length), 'the slices, then CRLF, then the next command, in order').toEqual([...Array(4).fill(256 * 1024), 2, 9]);
    expect(Buffer.concat(written).equals(Buffer.concat([message, Buffer.from('\r\nA2 NOOP\r\n')]))).toBe(true);
  });

  it('a streamed literal (LiteralStream) goes out as its chunks come, the command ended only after its last', async () => {
    const { client, written } = connected();
    let give!: (chunk: Buffer) => void;
    const body = (async function* () {
      yield Buffer.from('Subject: a\r\n\r\n');
      yield await new Promise<Buffer>((resolve) => (give = resolve));
    })();
    const literal = new LiteralStream(20, body);
    const attributes = [{ type: 'ATOM', value: 'INBOX' }, [], { type: 'STRING', value: ' 5-Jan-2024 03:04:05 +0000' }, { type: 'LITERAL', value: literal }];
    await client.send({ tag: 'A1', command: 'APPEND', attributes, options: { literalPlus: true } });
    client.write('A2 NOOP');
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(written).toString(), 'the first chunk, and nothing of what follows the literal yet').toBe('A1 APPEND INBOX () " 5-Jan-2024 03:04:05 +0000" {20+}\r\nSubject: a\r\n\r\n');
    give(Buffer.from('body\r\n'));
    await literal.written;
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(written).toString()).toBe('A1 APPEND INBOX () " 5-Jan-2024 03:04:05 +0000" {20+}\r\nSubject: a\r\n\r\nbody\r\n\r\nA2 NOOP\r\n');
  });

  it('a streamed literal whose body fails closes the connection mid-literal: the command never ends, nothing behind it is sent', async () => {
    const { client, written } = connected();
    let closed = 0;
    (client as unknown as { close(): void }).close = () => closed++;
    const body = (async function* () {
      yield Buffer.from('Subject: a\r\n');
      throw new Error('the source went away');
    })();
    const literal = new LiteralStream(100, body);
    await client.send({ tag: 'A1', command: 'APPEND', attributes: [{ type: 'ATOM', value: 'INBOX' }, { type: 'LITERAL', value: literal }], options: { literalPlus: true } });
    client.write('A2 NOOP');
    await expect(literal.written).rejects.toThrow('the source went away');
    expect(closed).toBe(1);
    expect(Buffer.concat(written).toString()).toBe('A1 APPEND INBOX {100+}\r\nSubject: a\r\n');
  });

  it('a FETCH response item name (UID, BODY[]) is compiled once per run, as imapflow compiles it', async () => {
    const handler = require('imapflow/lib/handler/imap-handler.js') as { parser(b: Buffer): Promise<{ attributes: unknown[][] }>; compiler(data: unknown): Buffer };
    const literal = (s: string): string => `{${s.length}}\r\n${s}`;
    const line = `* 1 FETCH (UID 5 FLAGS (\\Seen) RFC822.SIZE 3 INTERNALDATE "05-Jan-2024 03:04:05 +0000" BODY[] ${literal('abc')} BODY[HEADER.FIELDS (A)] ${literal('')} BODY[]<5> ${literal('')} MODSEQ (5))`;
    const items = (await handler.parser(Buffer.from(line))).attributes[1]!;
    const names = items.filter((_, i) => i % 2 === 0).map((key) => handler.compiler({ attributes: [key] }).toString());
    expect(names, 'each item is named as imapflow names it').toEqual(['UID', 'FLAGS', 'RFC822.SIZE', 'INTERNALDATE', 'BODY[]', 'BODY[HEADER.FIELDS (A)]', 'BODY[]<5>', 'MODSEQ']);
    const again = (await handler.parser(Buffer.from(line))).attributes[1]!;
    expect(handler.compiler({ attributes: [again[0]] }), 'a second UID is not compiled again').toBe(handler.compiler({ attributes: [items[0]] }));
    expect(handler.compiler({ attributes: [again[8]] }), 'a second BODY[] is not compiled again').toBe(handler.compiler({ attributes: [items[8]] }));
  });

  it('ImapFlow looks its commands up in imap-commands.js, where imapflow-login.ts wraps ID, AUTHENTICATE, NAMESPACE and ENABLE', () => {
    const commands = require('imapflow/lib/imap-commands.js') as unknown;
    expect(commands, 'imapflow/lib/imap-commands.js no longer exports the command map imapflow-login.ts wraps').toBeInstanceOf(Map);
    const client = new ImapFlow({ host: 'localhost', port: 1, logger: false }) as unknown as { commands?: unknown };
    expect(client.commands, 'ImapFlow#commands is no longer the map of imap-commands.js: the login wraps would not apply').toBe(commands);
    const flow = readFileSync(require.resolve('imapflow'), 'utf8');
    expect(flow, "ImapFlow#startSession no longer sends ID through run('ID'): the wrap could not keep it to once").toMatch(/this\.run\('ID', this\.clientInfo\)/);
    expect(flow, "ImapFlow#authenticate no longer logs in through run('AUTHENTICATE', user, { password, loginMethod, authzid })").toMatch(
      /this\.run\('AUTHENTICATE', this\.options\.auth\.user, \{\s*password: this\.options\.auth\.pass,\s*loginMethod,\s*authzid: this\.options\.auth\.authzid\s*\}\)/,
    );
    // The AUTHENTICATE sent behind ID chooses as authenticate() does; the ENABLE sent behind
    // NAMESPACE is autoEnable()'s, whose list and order (NAMESPACE, COMPRESS, ENABLE) it repeats.
    expect(flow, 'ImapFlow#authenticate no longer sends a user name with a slash or backslash through LOGIN').toMatch(/if \(!loginMethod && \/\\\\\|\\\/\/\.test\(this\.options\.auth\.user\)\) \{\s*\/\/[^\n]*\n\s*loginMethod = 'LOGIN';/);
    expect(flow, 'ImapFlow#startSession no longer sends NAMESPACE, COMPRESS, ENABLE in that order').toMatch(/run\('NAMESPACE'\)[\s\S]*?await this\.compress\(\);[\s\S]*?await this\.autoEnable\(\);/);
    expect(flow, 'ImapFlow#autoEnable no longer asks for CONDSTORE, UTF8=ACCEPT, QRESYNC (an option) and IMAP4rev2').toMatch(
      /let enableList = \['CONDSTORE', 'UTF8=ACCEPT'\]\.concat\(this\.options\.qresync \? 'QRESYNC' : \[\]\)\.concat\(this\.skipRev2 \? \[\] : 'IMAP4rev2'\);/,
    );
  });

  it("ID, wrapped, is sent once per connection once the server answered with its name", async () => {
    const commands = require('imapflow/lib/imap-commands.js') as Map<string, (connection: unknown, ...args: unknown[]) => Promise<unknown>>;
    const sent: unknown[] = [];
    let fields = [{ type: 'STRING', value: 'name' }, { type: 'STRING', value: 'Dovecot' }];
    const connection = {
      capabilities: new Map([['ID', true]]),
      log: { warn: () => undefined },
      exec: async (command: string, attributes: unknown[], options: { untagged: { ID(u: unknown): Promise<void> } }) => {
        sent.push([command, attributes]);
        await options.untagged.ID({ attributes: [fields] });
        return { next: () => undefined };
      },
    };
    const id = commands.get('ID')!;
    const nameless = { ...connection };
    fields = [];
    expect(await id(nameless, { name: 'mailferry' })).toEqual({});
    fields = [{ type: 'STRING', value: 'name' }, { type: 'STRING', value: 'Dovecot' }];
    expect(await id(nameless, { name: 'mailferry' }), 'an answer without the name imapflow reads is asked for again, as imapflow does').toEqual({ name: 'Dovecot' });
    sent.length = 0;
    expect(await id(connection, { name: 'mailferry' }), "imapflow's ID no longer answers with the server's fields").toEqual({ name: 'Dovecot' });
    expect(await id(connection, { name: 'mailferry' }), 'the second ID (imapflow asks again after login) answers what the first got').toEqual({ name: 'Dovecot' });
    expect(sent, 'ID went to the server twice').toHaveLength(1);
    expect(await id({ ...connection }, { name: 'mailferry' })).toEqual({ name: 'Dovecot' });
    expect(sent, 'another connection asks for itself').toHaveLength(2);
  });

  describe('AUTHENTICATE PLAIN, wrapped', () => {
    /** A not-yet-authenticated connection whose server advertises `caps`; records what is executed and written. */
    function loggingIn(caps: string[], answer: (options: { onPlusTag?: () => Promise<void> }) => Promise<void> = async () => undefined) {
      const execs: unknown[][] = [];
      const written: string[] = [];
      const connection = {
        id: 'c1',
        state: 1,
        states: { NOT_AUTHENTICATED: 1 },
        capabilities: new Map(caps.map((c) => [c, true])),
        authCapabilities: new Map<string, boolean>(),
        log: { debug: () => undefined, warn: () => undefined },
        write: (chunk: string) => written.push(chunk),
        exec: async (command: string, attributes: unknown[], options: { onPlusTag?: () => Promise<void> }) => {
          execs.push([command, attributes]);
          await answer(options);
          return { next: () => undefined };
        },
      };
      const authenticate = (require('imapflow/lib/imap-commands.js') as Map<string, (c: unknown, user: string, credentials: object) => Promise<unknown>>).get('AUTHENTICATE')!;
      return { connection, execs, written, login: (credentials: object) => authenticate(connection, 'src', credentials) };
    }
    const payload = (...fields: string[]): string => Buffer.from(fields.join('\x00')).toString('base64');

    it('sends the payload on the command line, marked sensitive, when the server offers SASL-IR', async () => {
      const { connection, execs, written, login } = loggingIn(['AUTH=PLAIN', 'SASL-IR'], async (options) => options.onPlusTag?.());
      expect(await login({ password: 'pw-Canary', loginMethod: '' })).toBe('src');
      expect(execs).toEqual([['AUTHENTICATE', [{ type: 'ATOM', value: 'PLAIN' }, { type: 'ATOM', value: payload('', 'src', 'pw-Canary'), sensitive: true }]]]);
      expect(written, 'a challenge after the initial response is cancelled, never answered with the password').toEqual(['*']);
      expect(connection.authCapabilities.get('AUTH=PLAIN'), 'the mechanism logged in with is marked, as imapflow marks it (imap-connection.ts reads it)').toBe(true);
      const handler = require('imapflow/lib/handler/imap-handler.js') as { compiler(data: unknown, options?: { isLogging?: boolean }): Buffer };
      const logged = handler.compiler({ tag: '2', command: 'AUTHENTICATE', attributes: (execs[0]![1] as unknown[]) }, { isLogging: true }).toString();
      expect(logged, 'imapflow logs a sensitive attribute as a placeholder').toBe('2 AUTHENTICATE PLAIN "(* value hidden *)"');
    });

    it('carries the authorization identity', async () => {
      const { execs, login } = loggingIn(['AUTH=PLAIN', 'SASL-IR']);
      expect(await login({ password: 'pw', loginMethod: 'AUTH=PLAIN', authzid: 'user' })).toBe('user');
      expect((execs[0]![1] as Array<{ value: string }>)[1]!.value).toBe(payload('user', 'src', 'pw'));
    });

    it("is imapflow's own without SASL-IR: the payload answers the server's \"+\"", async () => {
      const { execs, written, login } = loggingIn(['AUTH=PLAIN'], async (options) => options.onPlusTag?.());
      expect(await login({ password: 'pw', loginMethod: '' })).toBe('src');
      expect(execs).toEqual([['AUTHENTICATE', [{ type: 'ATOM', value: 'PLAIN' }]]]);
      expect(written).toEqual([payload('', 'src', 'pw')]);
    });

    it("is imapflow's own for AUTH=LOGIN and OAuth", async () => {
      const viaLogin = loggingIn(['AUTH=PLAIN', 'AUTH=LOGIN', 'SASL-IR']);
      await viaLogin.login({ password: 'pw', loginMethod: 'AUTH=LOGIN' });
      expect(viaLogin.execs).toEqual([['AUTHENTICATE', [{ type: 'ATOM', value: 'LOGIN' }]]]);
      const viaToken = loggingIn(['AUTH=PLAIN', 'AUTH=XOAUTH2', 'SASL-IR']);
      await viaToken.login({ accessToken: 'token' });
      expect((viaToken.execs[0]![1] as Array<{ value: string }>)[0]!.value).toBe('XOAUTH2');
    });

    it("sent behind the ID, is what imapflow's login takes up: by AUTHENTICATE, or by LOGIN once the logged-in capabilities (no AUTH=) came in first", async () => {
      const commands = require('imapflow/lib/imap-commands.js') as Map<string, (c: unknown, ...args: unknown[]) => Promise<unknown>>;
      for (const via of ['AUTHENTICATE', 'LOGIN'] as const) {
        const { connection, execs } = loggingIn(['ID', 'AUTH=PLAIN', 'SASL-IR']);
        Object.assign(connection, { options: { auth: { user: 'src', pass: 'pw' } } });
        await commands.get('ID')!(connection, { name: 'mailferry' });
        expect(execs.map((e) => e[0]), 'AUTHENTICATE went out behind the ID').toEqual(['ID', 'AUTHENTICATE']);
        if (via === 'LOGIN') connection.capabilities = new Map([['IMAP4rev1', true]]);
        const result = via === 'AUTHENTICATE' ? await commands.get(via)!(connection, 'src', { password: 'pw', loginMethod: '' }) : await commands.get(via)!(connection, 'src', 'pw');
        expect(result).toBe('src');
        expect(execs, `imapflow's ${via} logged in a second time`).toHaveLength(2);
      }
    });

    it('a refusal is an authentication failure, as imapflow reports it', async () => {
      const refusal = Object.assign(new Error('Command failed'), {
        responseStatus: 'NO',
        response: { tag: '2', command: 'NO', attributes: [{ type: 'SECTION', section: [{ type: 'ATOM', value: 'AUTHENTICATIONFAILED' }] }, { type: 'TEXT', value: 'Authentication failed.' }] },
      });
      const { login } = loggingIn(['AUTH=PLAIN', 'SASL-IR'], async () => {
        throw refusal;
      });
      const err = (await login({ password: 'pw', loginMethod: '' }).catch((e: unknown) => e)) as typeof refusal & { authenticationFailed?: boolean; serverResponseCode?: string };
      expect(err).toBe(refusal);
      expect(err.authenticationFailed).toBe(true);
      expect(err.serverResponseCode).toBe('AUTHENTICATIONFAILED');
      expect(err.response).toBe('2 NO [AUTHENTICATIONFAILED] Authentication failed.');
    });
  });

  it('a command queued with `pipelined` goes on the wire behind the one not yet answered, and is not written again in its turn', () => {
    const { client, written } = connected();
    const flow = client as unknown as {
      exec(command: string, attributes: unknown[], options?: object): Promise<unknown>;
      trySend(): Promise<void>;
      currentRequest: { tag: string; sent?: boolean } | false;
      capabilities: Map<string, unknown>;
      requestTagMap: Map<string, unknown>;
    };
    flow.capabilities = new Map([['IMAP4rev1', true]]);
    void flow.exec('EXAMINE', [{ type: 'ATOM', value: 'INBOX' }]).catch(() => undefined);
    void flow.exec('UID FETCH', [{ type: 'SEQUENCE', value: '1:*' }, [{ type: 'ATOM', value: 'UID' }]], { pipelined: true }).catch(() => undefined);
    void flow.exec('NOOP', []).catch(() => undefined);
    expect(Buffer.concat(written).toString(), 'the FETCH waited for the EXAMINE to be answered; the NOOP, not pipelined, must wait').toBe('1 EXAMINE INBOX\r\n2 UID FETCH 1:* (UID)\r\n');
    // The EXAMINE answered: the FETCH becomes imapflow's current command, already sent.
    flow.currentRequest = false;
    void flow.trySend();
    // Read through a function: the assignment above would narrow the property to `false`.
    const current = (): { tag: string; sent?: boolean } | false => flow.currentRequest;
    expect(current() && (current() as { tag: string }).tag).toBe('2');
    expect(current() && (current() as { sent?: boolean }).sent).toBe(true);
    expect(Buffer.concat(written).toString(), 'the FETCH was written twice').toBe('1 EXAMINE INBOX\r\n2 UID FETCH 1:* (UID)\r\n');
    flow.currentRequest = false;
    void flow.trySend();
    expect(Buffer.concat(written).toString()).toBe('1 EXAMINE INBOX\r\n2 UID FETCH 1:* (UID)\r\n3 NOOP\r\n');
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

import { createRequire } from 'node:module';

/**
 * imapflow's login, two round trips shorter (each 0.1 s of every run at 100 ms RTT).
 *
 * - ID once per connection. imapflow sends ID before logging in (kept: some providers, e.g.
 *   NetEase, refuse mail access to a client that has not identified itself) and again after, when
 *   the first answer had fewer than two fields (Dovecot answers with its name alone). Of the
 *   answer imapflow reads only the server's name (to keep IMAP4rev2 off where a server is known
 *   to break it) and mailferry nothing, so once the name is known it is not asked again.
 * - AUTHENTICATE PLAIN with its initial response on the command line (RFC 4959 SASL-IR) when the
 *   server advertises both SASL-IR and AUTH=PLAIN; imapflow waits for an empty "+" first. The
 *   payload is marked `sensitive`, as imapflow marks its OAuth initial responses, so its log shows
 *   a placeholder. Any other login (no SASL-IR, AUTH=LOGIN, the LOGIN command, OAuth) is imapflow's.
 *
 * Both wrap handlers in imapflow's command map, which every client of its CommonJS build (the one
 * imapflow-client.ts loads) looks commands up in at each call. If a future imapflow moves them,
 * nothing is wrapped and logging in keeps imapflow's round trips; test/unit/imapflow-internals.test.ts
 * checks that the wraps apply.
 */
const require = createRequire(import.meta.url);
const commands = internal('imapflow/lib/imap-commands.js');
const tools = (internal('imapflow/lib/tools.js') ?? {}) as Partial<Tools>;

/** A module of imapflow's build, or undefined where a future imapflow has none. */
function internal(path: string): unknown {
  try {
    return require(path) as unknown;
  } catch {
    return undefined;
  }
}

interface Tools {
  getStatusCode(response: unknown): string | false;
  getErrorText(response: unknown): Promise<string | false>;
  isServerRefusal(err: unknown): boolean;
}

/** The members of an imapflow client (the `connection` its commands get) used here. */
interface Connection {
  state: number;
  states: { NOT_AUTHENTICATED: number };
  capabilities: Map<string, unknown>;
  authCapabilities: Map<string, boolean>;
  exec(command: string, attributes: unknown[], options?: { onPlusTag?: () => Promise<void> }): Promise<{ next(): void }>;
  write(chunk: string): void;
}

interface Credentials {
  accessToken?: string;
  password?: string;
  loginMethod?: string;
  authzid?: string;
}

type Handler = (connection: Connection, ...args: unknown[]) => Promise<unknown>;

/** Called once a client's login went through (see `whenLoggedIn`). */
const loginWatchers = new WeakMap<object, () => void>();

/**
 * Calls `fn` as soon as `client`'s login is accepted, before imapflow goes on with NAMESPACE,
 * COMPRESS and ENABLE (three round trips a store's other connections need not wait for). Only
 * where the wraps apply; a caller also treats the end of `connect()` as logged in.
 */
export function whenLoggedIn(client: object, fn: () => void): void {
  loginWatchers.set(client, fn);
}

function tellLoggedIn(connection: object): void {
  const fn = loginWatchers.get(connection);
  loginWatchers.delete(connection);
  fn?.();
}

/** Tells `whenLoggedIn`'s watcher once the wrapped login resolves. */
function watched(original: Handler): Handler {
  return async (connection, ...args) => {
    const result = await original(connection, ...args);
    tellLoggedIn(connection);
    return result;
  };
}

/** The ID answer (with the server's name) each connection got, so it is asked once. */
const identified = new WeakMap<Connection, unknown>();

function idOnce(original: Handler): Handler {
  return async (connection, ...args) => {
    const earlier = identified.get(connection);
    if (earlier !== undefined) return earlier;
    const answer = await original(connection, ...args);
    // No name (no ID capability yet, refused, or an empty answer): imapflow may ask again after login.
    if (typeof (answer as { name?: unknown } | undefined)?.name === 'string') identified.set(connection, answer);
    return answer;
  };
}

function withInitialResponse(original: Handler, t: Tools): Handler {
  return async (connection, ...args) => {
    const [username, credentials] = args as [string, Credentials];
    if (!takesInitialResponse(connection, credentials)) return original(connection, ...args);
    const { password, authzid } = credentials;
    const payload = Buffer.from([authzid ?? '', username, password].join('\x00')).toString('base64');
    try {
      const response = await connection.exec('AUTHENTICATE', [{ type: 'ATOM', value: 'PLAIN' }, { type: 'ATOM', value: payload, sensitive: true }], {
        // PLAIN has nothing more to say: a challenge anyway is cancelled (RFC 9051 6.2.2), so the
        // server ends the command with BAD instead of waiting.
        onPlusTag: async () => connection.write('*'),
      });
      response.next();
    } catch (err) {
      throw await asAuthError(err, t);
    }
    connection.authCapabilities.set('AUTH=PLAIN', true);
    return authzid || username;
  };
}

/** Where imapflow would choose AUTHENTICATE PLAIN, and the server takes its payload at once. */
function takesInitialResponse(connection: Connection, c: Credentials | undefined): c is Credentials & { password: string } {
  if (connection.state !== connection.states.NOT_AUTHENTICATED || !c || c.accessToken || !c.password) return false;
  const caps = connection.capabilities;
  return (!c.loginMethod || c.loginMethod === 'AUTH=PLAIN') && caps.has('AUTH=PLAIN') && caps.has('SASL-IR');
}

/** The error as imapflow's own AUTHENTICATE gives it: a server refusal marked `authenticationFailed`. */
async function asAuthError(err: unknown, t: Tools): Promise<unknown> {
  const e = err as { response?: unknown; serverResponseCode?: string; authenticationFailed?: boolean };
  const code = t.getStatusCode(e.response);
  if (code) e.serverResponseCode = code;
  if (t.isServerRefusal(err)) e.authenticationFailed = true;
  e.response = await t.getErrorText(e.response);
  return err;
}

function wrap(name: string, how: (original: Handler) => Handler): void {
  if (!(commands instanceof Map)) return;
  const original = commands.get(name) as unknown;
  if (typeof original === 'function') commands.set(name, how(original as Handler));
}

wrap('ID', idOnce);
if (typeof tools.getStatusCode === 'function' && typeof tools.getErrorText === 'function' && typeof tools.isServerRefusal === 'function') {
  const t = tools as Tools;
  wrap('AUTHENTICATE', (original) => withInitialResponse(original, t));
}
wrap('AUTHENTICATE', watched);
wrap('LOGIN', watched);

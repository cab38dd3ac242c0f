import { createRequire } from 'node:module';

/**
 * imapflow's login and session set-up, four round trips shorter (each 0.1 s of every run at
 * 100 ms RTT).
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
 * - That AUTHENTICATE goes on the wire right behind the ID, before ID is answered (pipelined,
 *   imapflow-pipeline.ts): the server still reads the ID first, and nothing of the login depends
 *   on ID's answer. One round trip for both.
 * - After the login imapflow asks NAMESPACE, then (where the server offers it) COMPRESS, then
 *   ENABLE. Without COMPRESS, the ENABLE goes right behind the NAMESPACE, with the list imapflow
 *   would send: one round trip for both. COMPRESS switches the stream, so with it nothing changes.
 *
 * Each wraps a handler in imapflow's command map, which every client of its CommonJS build (the one
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
  /** imapflow's decision, made before NAMESPACE, to leave IMAP4rev2 off. */
  skipRev2?: boolean;
  states: { NOT_AUTHENTICATED: number };
  capabilities: Map<string, unknown>;
  authCapabilities: Map<string, boolean>;
  /** Set by imapflow before its login: a CAPABILITY round trip follows the login unless a response brought the list. */
  expectCapabilityUpdate: boolean;
  options?: {
    auth?: { user?: string; pass?: string; accessToken?: string; loginMethod?: string; authzid?: string };
    verifyOnly?: boolean;
    disableCompression?: boolean;
    disableAutoEnable?: boolean;
    qresync?: boolean;
  };
  exec(command: string, attributes: unknown[], options?: { onPlusTag?: () => Promise<void>; pipelined?: boolean }): Promise<{ next(): void; response?: { attributes?: Array<{ section?: Array<{ value?: unknown } | null> }> } }>;
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
    // imapflow's ID handler writes the command before it first waits.
    const asked = original(connection, ...args);
    if (loginsTakenUp && connection.capabilities.has('ID')) loginBehind(connection);
    const answer = await asked;
    // No name (no ID capability yet, refused, or an empty answer): imapflow may ask again after login.
    if (typeof (answer as { name?: unknown } | undefined)?.name === 'string') identified.set(connection, answer);
    return answer;
  };
}

/** An AUTHENTICATE written behind the ID, for imapflow's login to take up (`loginBehind`). */
interface EarlyLogin {
  username: string;
  password: string;
  authzid?: string;
  /** Whether its OK carried the capability list. */
  answer: Promise<boolean>;
}

const earlyLogins = new WeakMap<Connection, EarlyLogin>();

/**
 * Writes the AUTHENTICATE PLAIN imapflow's login will send, right behind the ID: the credentials
 * and the choice of mechanism as imapflow's `authenticate()` makes them, where that choice is
 * AUTHENTICATE PLAIN with its initial response.
 */
function loginBehind(connection: Connection): void {
  const auth = connection.options?.auth;
  if (!auth?.user || !auth.pass || auth.accessToken || earlyLogins.has(connection)) return;
  let loginMethod = (auth.loginMethod ?? '').toString().trim().toUpperCase();
  // imapflow's rule: a user name with a slash or backslash (an Exchange alias) logs in with LOGIN.
  if (!loginMethod && /\\|\//.test(auth.user)) loginMethod = 'LOGIN';
  const credentials: Credentials = { password: auth.pass, loginMethod, authzid: auth.authzid };
  if (loginMethod === 'LOGIN' || !takesInitialResponse(connection, credentials)) return;
  const answer = sendInitialResponse(connection, auth.user, credentials, true);
  // Taken up, and its failure reported, by imapflow's login; this only keeps it from going unobserved.
  answer.catch(() => undefined);
  earlyLogins.set(connection, { username: auth.user, password: auth.pass, authzid: auth.authzid, answer });
}

/** Resolves to whether the server's OK carried its capabilities (RFC 9051 7.1), which imapflow takes in as it comes. */
async function sendInitialResponse(connection: Connection, username: string, credentials: Credentials & { password: string }, pipelined: boolean): Promise<boolean> {
  const { password, authzid } = credentials;
  const payload = Buffer.from([authzid ?? '', username, password].join('\x00')).toString('base64');
  const response = await connection.exec('AUTHENTICATE', [{ type: 'ATOM', value: 'PLAIN' }, { type: 'ATOM', value: payload, sensitive: true }], {
    // PLAIN has nothing more to say: a challenge anyway is cancelled (RFC 9051 6.2.2), so the
    // server ends the command with BAD instead of waiting.
    onPlusTag: async () => connection.write('*'),
    pipelined,
  });
  response.next();
  const code = response.response?.attributes?.[0]?.section?.[0];
  return typeof code?.value === 'string' && code.value.toUpperCase() === 'CAPABILITY';
}

function withInitialResponse(original: Handler, t: Tools): Handler {
  return async (connection, ...args) => {
    const [username, credentials] = args as [string, Credentials];
    if (!takesInitialResponse(connection, credentials)) return original(connection, ...args);
    try {
      await sendInitialResponse(connection, username, credentials, false);
    } catch (err) {
      throw await asAuthError(err, t);
    }
    connection.authCapabilities.set('AUTH=PLAIN', true);
    return credentials.authzid || username;
  };
}

/**
 * imapflow's login, or the answer to the AUTHENTICATE sent behind the ID for the same credentials.
 * It wraps LOGIN too: imapflow chooses between them by the capabilities it has when it logs in,
 * and the early AUTHENTICATE's answer may already have replaced them with the logged-in list
 * (which names no AUTH= mechanism).
 */
function takingEarlyLogin(original: Handler, t: Tools): Handler {
  return async (connection, ...args) => {
    const early = earlyLogins.get(connection);
    earlyLogins.delete(connection);
    const [username, second] = args as [string, Credentials | string | undefined];
    const password = typeof second === 'string' ? second : second?.password;
    if (!early || early.username !== username || early.password !== password) return original(connection, ...args);
    try {
      // Its OK carried the capabilities, maybe taken in before imapflow began to expect them.
      if (await early.answer) connection.expectCapabilityUpdate = false;
    } catch (err) {
      throw await asAuthError(err, t);
    }
    connection.authCapabilities.set('AUTH=PLAIN', true);
    return early.authzid || username;
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

/** An ENABLE written behind the NAMESPACE, for imapflow's `autoEnable()` to take up. */
const earlyEnables = new WeakMap<Connection, { list: string[]; answer: Promise<unknown> }>();

function enableBehind(original: Handler, enable: Handler): Handler {
  return async (connection, ...args) => {
    // imapflow's NAMESPACE handler writes the command (or its LIST fallback) before it first waits.
    const asked = original(connection, ...args);
    enableEarly(connection, enable);
    return asked;
  };
}

/** Writes the ENABLE imapflow's `autoEnable()` will send next, where no COMPRESS comes first. */
function enableEarly(connection: Connection, enable: Handler): void {
  const o = connection.options ?? {};
  if (o.verifyOnly || o.disableAutoEnable || earlyEnables.has(connection)) return;
  if (!o.disableCompression && connection.capabilities.has('COMPRESS=DEFLATE')) return;
  // imapflow's list (autoEnable); its ENABLE handler sends only what the server advertises.
  const list = ['CONDSTORE', 'UTF8=ACCEPT', ...(o.qresync ? ['QRESYNC'] : []), ...(connection.skipRev2 ? [] : ['IMAP4rev2'])];
  const exec = connection.exec;
  // The handler calls exec before it first waits: that one call is marked pipelined.
  connection.exec = (command, attributes, options) => exec.call(connection, command, attributes, { ...options, pipelined: true });
  let answer: Promise<unknown>;
  try {
    answer = enable(connection, list);
  } finally {
    connection.exec = exec;
  }
  // Taken up by imapflow's ENABLE; this only keeps a failure meanwhile from going unobserved.
  answer.catch(() => undefined);
  earlyEnables.set(connection, { list, answer });
}

/** imapflow's ENABLE, or the answer to the same one sent behind NAMESPACE. */
function takingEarlyEnable(original: Handler): Handler {
  return async (connection, ...args) => {
    const early = earlyEnables.get(connection);
    earlyEnables.delete(connection);
    const list = args[0];
    if (early && Array.isArray(list) && list.join(' ') === early.list.join(' ')) return early.answer;
    return original(connection, ...args);
  };
}

/** Wraps imapflow's handler of `name`; false where there is none to wrap. */
function wrap(name: string, how: (original: Handler) => Handler): boolean {
  if (!(commands instanceof Map)) return false;
  const original = commands.get(name) as unknown;
  if (typeof original !== 'function') return false;
  commands.set(name, how(original as Handler));
  return true;
}

const t = typeof tools.getStatusCode === 'function' && typeof tools.getErrorText === 'function' && typeof tools.isServerRefusal === 'function' ? (tools as Tools) : undefined;
wrap('ID', idOnce);
if (t) wrap('AUTHENTICATE', (original) => withInitialResponse(original, t));
/** Whether a login sent behind the ID is taken up where imapflow logs in. */
const loginsTakenUp = t !== undefined && wrap('AUTHENTICATE', (original) => takingEarlyLogin(original, t)) && wrap('LOGIN', (original) => takingEarlyLogin(original, t));
wrap('AUTHENTICATE', watched);
wrap('LOGIN', watched);
const enable = commands instanceof Map ? (commands.get('ENABLE') as unknown) : undefined;
if (typeof enable === 'function') {
  wrap('NAMESPACE', (original) => enableBehind(original, enable as Handler));
  wrap('ENABLE', takingEarlyEnable);
}

// Specification of the fake Gmail server (test/support/gmail-server.ts): what imapflow sees of it,
// and the wire-level behaviour (literals, pipelining, faults) checked with a raw socket.
import net from 'node:net';
import { ImapFlow } from 'imapflow';
import { getStatusCode } from 'imapflow/lib/tools.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGmailServer, type GmailServer } from './support/gmail-server.js';

const USER = 'alice@example.com';
const PASS = 'pw-Gm4il secret';
let server: GmailServer;
const clients: ImapFlow[] = [];

beforeEach(async () => {
  server = await startGmailServer({ users: [{ name: USER, password: PASS }, { name: 'bob', password: 'bob-pw' }], appendLimit: 100_000 });
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.logout().catch(() => c.close());
  await server.close();
  await server.close(); // idempotent
});

async function connect(user = USER, pass = PASS): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, auth: { user, pass }, logger: false });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return client;
}

/** 8-bit bytes, a bare LF and a bare CR: what must survive byte for byte. */
const raw = (subject: string, extra = '') =>
  Buffer.concat([Buffer.from(`From: a@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.com>\r\n\r\n`), Buffer.from([0xe9, 0xff, 0x80, 0x0a, 0x0d, 0x41, 0x0d, 0x0a]), Buffer.from(extra)]);

/** Everything imapflow says about a failed command, the response code included. */
function errorText(err: unknown): string {
  const e = err as { message?: string; responseText?: string; serverResponseCode?: string; response?: Parameters<typeof getStatusCode>[0] };
  return [e.message, e.responseText, e.serverResponseCode, getStatusCode(e.response)].join(' ');
}

describe('Gmail server through imapflow', { timeout: 20_000 }, () => {
  it('lists the Gmail folder set with special-use flags, label folders and \\Noselect [Gmail]', async () => {
    server.addMessage(USER, { raw: raw('one'), labels: ['Work/Projects', 'Ünïcode'] });
    server.addLabelFolder(USER, 'Empty');
    const client = await connect();
    const list = await client.list();
    const byPath = new Map(list.map((f) => [f.path, f]));
    expect([...byPath.keys()].sort()).toEqual(
      ['INBOX', '[Gmail]', '[Gmail]/All Mail', '[Gmail]/Drafts', '[Gmail]/Important', '[Gmail]/Sent Mail', '[Gmail]/Spam', '[Gmail]/Starred', '[Gmail]/Trash', 'Empty', 'Work', 'Work/Projects', 'Ünïcode'].sort(),
    );
    const use = Object.fromEntries(list.filter((f) => f.specialUse).map((f) => [f.path, f.specialUse]));
    expect(use).toEqual({
      INBOX: '\\Inbox', '[Gmail]/All Mail': '\\All', '[Gmail]/Sent Mail': '\\Sent', '[Gmail]/Drafts': '\\Drafts',
      '[Gmail]/Spam': '\\Junk', '[Gmail]/Trash': '\\Trash', '[Gmail]/Starred': '\\Flagged',
    });
    expect(byPath.get('[Gmail]/Important')?.flags.has('\\Important')).toBe(true);
    expect(byPath.get('[Gmail]')?.flags.has('\\Noselect')).toBe(true);
    expect(byPath.get('Work')?.flags.has('\\HasChildren')).toBe(true); // the parent of a nested label is a label too
    expect(byPath.get('Work/Projects')?.flags.has('\\HasNoChildren')).toBe(true);
    expect(server.folderNames(USER)).toContain('Ünïcode');
    expect((await client.mailboxOpen('Ünïcode')).exists).toBe(1); // modified UTF-7 both ways
    const [msg] = await client.fetchAll('1', { labels: true });
    expect([...(msg?.labels ?? [])].sort()).toEqual(['Work/Projects', 'Ünïcode']);
    expect(server.folderNames('bob')).not.toContain('Work'); // accounts are separate
  });

  it('shows a message in every folder of its labels with the same X-GM-MSGID, and not elsewhere', async () => {
    const msgid = server.addMessage(USER, { raw: raw('labelled'), labels: ['\\Inbox', 'Work'] });
    server.addMessage(USER, { raw: raw('archived') });
    expect(BigInt(msgid)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
    const client = await connect();
    for (const [folder, count] of [['INBOX', 1], ['Work', 1], ['[Gmail]/All Mail', 2]] as const) {
      const box = await client.mailboxOpen(folder);
      expect(box.exists).toBe(count);
      const found = (await client.fetchAll('1:*', { uid: true, emailId: true, labels: true })).filter((m) => m.emailId === msgid);
      expect(found).toHaveLength(1);
      expect([...(found[0]?.labels ?? [])].sort()).toEqual(['Work', '\\Inbox']);
      expect(server.folderMessages(USER, folder)).toContainEqual({ uid: found[0]?.uid, msgid });
    }
    expect(await client.status('[Gmail]/Sent Mail', { messages: true })).toMatchObject({ messages: 0 });
    const inbox = await client.status('INBOX', { uidValidity: true, uidNext: true, messages: true });
    const work = await client.status('Work', { uidValidity: true });
    expect(inbox).toMatchObject({ messages: 1, uidNext: 2 });
    expect(inbox && inbox.uidValidity).not.toBe(work && work.uidValidity);
  });

  it('returns the seeded bytes exactly, and BODY.PEEK[] leaves \\Seen alone', async () => {
    const bytes = raw('exact', 'tail without newline');
    const msgid = server.addMessage(USER, { raw: bytes, labels: ['\\Inbox'] });
    const client = await connect();
    await client.mailboxOpen('INBOX');
    const msg = await client.fetchOne('1', { source: true, size: true });
    expect(msg && msg.source?.equals(bytes)).toBe(true);
    expect(msg && msg.size).toBe(bytes.length);
    expect(server.messages(USER).find((m) => m.msgid === msgid)?.flags).not.toContain('\\Seen');
  });

  it('appends with flags and date into a label folder, and answers with the UID', async () => {
    const date = new Date('2019-05-06T07:08:09Z');
    const client = await connect();
    expect(await client.mailboxCreate('Work')).toMatchObject({ created: true });
    await expect(client.mailboxCreate('[Gmail]/Mine')).rejects.toThrow();
    const res = await client.append('Work', raw('appended'), ['\\Seen', '$Custom'], date);
    expect(res && res.uid).toBeGreaterThan(0);
    const stored = server.messages(USER).find((m) => m.raw.equals(raw('appended')));
    expect(stored).toMatchObject({ labels: ['Work'], location: 'mail', internalDate: date });
    expect(stored?.flags.sort()).toEqual(['$Custom', '\\Seen']);
    expect(server.folderMessages(USER, 'Work')).toEqual([{ uid: res && res.uid, msgid: stored?.msgid }]);
    expect(server.folderMessages(USER, '[Gmail]/All Mail').map((m) => m.msgid)).toEqual([stored?.msgid]);
    expect(server.folderMessages(USER, 'INBOX')).toEqual([]);
    await client.mailboxOpen('Work');
    const fetched = await client.fetchOne(String(res && res.uid), { internalDate: true, flags: true }, { uid: true });
    expect(fetched && fetched.internalDate).toEqual(date);
    expect(server.stats(USER).appends).toBe(1);
    // Into INBOX: the \Inbox label; into a missing folder: TRYCREATE.
    await client.append('INBOX', raw('to-inbox'));
    expect(server.messages(USER).find((m) => m.raw.equals(raw('to-inbox')))?.labels).toEqual(['\\Inbox']);
    await expect(client.append('Nowhere', raw('lost'))).rejects.toSatisfy((e) => errorText(e).includes('TRYCREATE'));
  });

  it('adds and removes labels with STORE X-GM-LABELS: a label folder gains and loses the message, a UID is never reused', async () => {
    server.addLabelFolder(USER, 'Work');
    const client = await connect();
    const res = await client.append('Work', raw('to-label'));
    const uid = String(res && res.uid);
    const msgid = server.messages(USER)[0]?.msgid;
    await client.mailboxOpen('Work');
    expect(await client.messageFlagsAdd(uid, ['Personal'], { uid: true, useLabels: true })).toBe(true);
    expect(server.folderNames(USER)).toContain('Personal');
    expect(server.folderMessages(USER, 'Personal')).toEqual([{ uid: 1, msgid }]);
    const personal = await client.mailboxOpen('Personal');
    expect(personal.exists).toBe(1);
    const seen = await client.fetchOne('1', { labels: true, emailId: true });
    expect(seen && seen.emailId).toBe(msgid);
    expect([...((seen && seen.labels) || [])].sort()).toEqual(['Personal', 'Work']);
    // Removing the label of the selected folder: the message leaves it (an EXPUNGE on the next command).
    expect(await client.messageFlagsRemove('1', ['Personal'], { uid: true, useLabels: true })).toBe(true);
    await client.noop();
    expect(client.mailbox && client.mailbox.exists).toBe(0);
    expect(server.folderMessages(USER, 'Personal')).toEqual([]);
    await client.mailboxOpen('Work');
    await client.messageFlagsAdd(uid, ['Personal', '\\Starred'], { uid: true, useLabels: true });
    expect(server.folderMessages(USER, 'Personal')).toEqual([{ uid: 2, msgid }]); // back, with a new UID
    expect(server.folderMessages(USER, '[Gmail]/Starred')).toEqual([{ uid: 1, msgid }]);
    expect(server.messages(USER)[0]?.flags).toContain('\\Flagged'); // the star is the \Flagged flag
  });

  it('answers an injected THROTTLED in place of the body fetch; the next fetch succeeds', async () => {
    const bytes = raw('throttled');
    const msgid = server.addMessage(USER, { raw: bytes, labels: ['\\Inbox'] });
    server.inject({ match: /UID FETCH .*BODY\.PEEK\[\]/, reply: 'throttled' });
    const client = await connect();
    await client.mailboxOpen('INBOX');
    const err = await client.fetchOne('1', { source: true }, { uid: true }).then(() => undefined, (e: unknown) => e);
    expect(errorText(err)).toContain('THROTTLED');
    expect(server.injections()).toEqual([{ match: /UID FETCH .*BODY\.PEEK\[\]/, fired: 1 }]);
    expect(server.stats(USER).bodyFetches.get(msgid)).toBeUndefined(); // not executed
    const msg = await client.fetchOne('1', { source: true }, { uid: true });
    expect(msg && msg.source?.equals(bytes)).toBe(true);
    expect(server.injections()[0]?.fired).toBe(1);
  });

  it('counts body fetches per message and the body bytes sent', async () => {
    const a = raw('count-a');
    const b = raw('count-b', 'x'.repeat(1000));
    const ida = server.addMessage(USER, { raw: a, labels: ['\\Inbox'] });
    const idb = server.addMessage(USER, { raw: b, labels: ['\\Inbox'] });
    const client = await connect();
    await client.mailboxOpen('INBOX');
    await client.fetchOne('1', { source: true }, { uid: true });
    await client.fetchAll('1:2', { source: true }, { uid: true });
    const stats = server.stats(USER);
    expect(stats.bodyFetches).toEqual(new Map([[ida, 2], [idb, 1]]));
    expect(stats.bytesSent).toBe(2 * a.length + b.length);
    await client.fetchAll('1:*', { headers: ['message-id'] });
    expect(stats.bodyFetches).toEqual(new Map([[ida, 2], [idb, 1]])); // a header fetch is no body fetch
    expect(stats.bytesSent).toBe(2 * a.length + b.length + 2 * '\r\nMessage-ID: <count-a@example.com>\r\n'.length);
    expect(stats.commands.some((c) => /^\S+ UID FETCH 1:2 \(BODY\.PEEK\[\]/.test(c))).toBe(true);
  });

  it('takes a 5,000-byte APPEND as a synchronizing literal, and never records the password', async () => {
    const big = Buffer.concat([raw('big'), Buffer.alloc(5000 - raw('big').length, 0x61)]);
    const client = await connect();
    const res = await client.append('INBOX', big);
    await client.mailboxOpen('INBOX');
    const msg = await client.fetchOne(String(res && res.uid), { source: true }, { uid: true });
    expect(msg && msg.source?.equals(big)).toBe(true);
    const commands = server.stats(USER).commands;
    expect(commands).toContainEqual(expect.stringMatching(/^\S+ APPEND INBOX \{5000\}$/));
    expect(commands).toContainEqual(expect.stringMatching(/^\S+ AUTHENTICATE PLAIN/));
    expect(commands.join('\n')).not.toContain(PASS);
    expect(commands.join('\n')).not.toContain(Buffer.from(`\0${USER}\0${PASS}`).toString('base64'));
  });

  it('finds messages with SEARCH: UID ranges, X-GM-MSGID, flags', async () => {
    const ids = ['s1', 's2', 's3'].map((s, i) => server.addMessage(USER, { raw: raw(s), labels: ['\\Inbox'], flags: i === 1 ? ['\\Seen'] : [] }));
    const client = await connect();
    await client.mailboxOpen('INBOX');
    expect(await client.search({ uid: '2:*' }, { uid: true })).toEqual([2, 3]);
    expect(await client.search({ uid: '9:*' }, { uid: true })).toEqual([3]); // n:* names the highest UID (RFC 3501)
    expect(await client.search({ emailId: ids[2] }, { uid: true })).toEqual([3]);
    expect(await client.search({ seen: false }, { uid: true })).toEqual([1, 3]);
  });

  it('COPY adds the target label (COPYUID); EXPUNGE removes a label, in All Mail moves to Trash', async () => {
    const msgid = server.addMessage(USER, { raw: raw('copy'), labels: ['\\Inbox'] });
    server.addLabelFolder(USER, 'Archive');
    const client = await connect();
    await client.mailboxOpen('INBOX');
    const copied = await client.messageCopy('1', 'Archive', { uid: true });
    expect(copied && copied.uidMap?.get(1)).toBe(1);
    expect(server.messages(USER)[0]?.labels.sort()).toEqual(['Archive', '\\Inbox']);
    expect(await client.messageDelete('1', { uid: true })).toBe(true);
    expect(server.messages(USER)[0]).toMatchObject({ labels: ['Archive'], location: 'mail' });
    await client.mailboxOpen('[Gmail]/All Mail');
    await client.messageDelete('1', { uid: true });
    expect(server.messages(USER)[0]?.location).toBe('trash');
    expect(server.folderMessages(USER, '[Gmail]/Trash')).toEqual([{ uid: 1, msgid }]);
    expect(server.folderMessages(USER, 'Archive')).toEqual([]);
  });
});

/** A plain socket, for what imapflow never sends: split literals, bad literals, raw pipelines. */
async function rawConnection() {
  const socket = net.connect(server.port, '127.0.0.1');
  let received = '';
  let closed = false;
  let wake: () => void = () => undefined;
  socket.on('data', (d: Buffer) => ((received += d.toString('latin1')), wake()));
  socket.on('close', () => ((closed = true), wake()));
  socket.on('error', () => undefined);
  const conn = {
    send: (data: string | Buffer) => new Promise<void>((resolve) => socket.write(data, () => resolve())),
    /** Waits until the received text matches; returns it up to the end of the match, and forgets that part. */
    async until(re: RegExp): Promise<string> {
      let m: RegExpExecArray | null;
      while (!(m = re.exec(received))) {
        if (closed) throw new Error(`closed before ${re}; got ${received}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const text = received.slice(0, m.index + m[0].length);
      received = received.slice(text.length);
      return text;
    },
    get closed() {
      return closed;
    },
    close: () => socket.destroy(),
  };
  await conn.until(/^\* OK Gimap ready.*\r\n/);
  return conn;
}

describe('Gmail server on the wire', { timeout: 10_000 }, () => {
  const rawSessions: Array<{ close(): void }> = [];
  afterEach(() => rawSessions.splice(0).forEach((c) => c.close()));
  const open = async () => {
    const c = await rawConnection();
    rawSessions.push(c);
    return c;
  };

  it('advertises Gmail capabilities and none it does not implement', async () => {
    const c = await open();
    await c.send('c1 CAPABILITY\r\n');
    const caps = (await c.until(/c1 OK.*\r\n/)).split('\r\n')[0]?.split(' ') ?? [];
    expect(caps).toEqual(expect.arrayContaining(['IMAP4rev1', 'X-GM-EXT-1', 'UIDPLUS', 'SPECIAL-USE', 'LITERAL-', 'AUTH=PLAIN', 'SASL-IR', 'APPENDLIMIT=100000']));
    for (const no of ['CONDSTORE', 'LIST-STATUS', 'MULTIAPPEND', 'COMPRESS=DEFLATE', 'BINARY', 'XLIST', 'LITERAL+', 'STARTTLS', 'IDLE']) expect(caps).not.toContain(no);
    await c.send('c2 FROB\r\n');
    expect(await c.until(/c2 .*\r\n/)).toMatch(/^c2 BAD/);
  });

  it('logs in with literals (synchronizing and LITERAL-), refuses bad credentials, takes AUTHENTICATE PLAIN both ways', async () => {
    const c = await open();
    await c.send(`a1 LOGIN ${USER} wrong\r\n`);
    expect(await c.until(/a1 .*\r\n/)).toBe('a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n');
    await c.send(`a2 LOGIN {${USER.length}}\r\n`);
    await c.until(/^\+ .*\r\n/);
    await c.send(`${USER} {${PASS.length}+}\r\n${PASS}\r\n`);
    expect(await c.until(/a2 .*\r\n/)).toMatch(/^a2 OK \[CAPABILITY IMAP4rev1 .*X-GM-EXT-1/);
    const plain = (pass: string) => Buffer.from(`\0${USER}\0${pass}`).toString('base64');
    const d = await open();
    await d.send(`b1 AUTHENTICATE PLAIN ${plain('nope')}\r\nb2 AUTHENTICATE PLAIN\r\n`);
    expect(await d.until(/b1 .*\r\n/)).toMatch(/^b1 NO \[AUTHENTICATIONFAILED\]/);
    await d.until(/^\+ ?\r\n/);
    await d.send(`${plain(PASS)}\r\n`);
    expect(await d.until(/b2 .*\r\n/)).toMatch(/^b2 OK \[CAPABILITY/);
    const e = await open();
    await e.send(`e1 AUTHENTICATE PLAIN ${plain(PASS)}\r\n`);
    expect(await e.until(/e1 .*\r\n/)).toMatch(/^e1 OK/);
    expect(server.stats(USER).commands.join('\n')).not.toContain(PASS);
  });

  it('answers pipelined commands in order and takes a body literal split into many chunks', async () => {
    const c = await open();
    await c.send(`p1 LOGIN "${USER}" "${PASS}"\r\np2 SELECT INBOX\r\np3 NOOP\r\n`);
    const text = await c.until(/p3 OK.*\r\n/);
    expect(text.indexOf('p1 OK')).toBeLessThan(text.indexOf('p2 OK'));
    expect(server.stats(USER).commands.slice(0, 2)).toEqual([`p1 LOGIN "${USER}" ***`, 'p2 SELECT INBOX']);
    const body = Buffer.concat([raw('chunked'), Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 0))]);
    await c.send(`p4 APPEND INBOX (\\Flagged) " 3-Feb-2021 10:11:12 +0100" {${body.length}}\r\n`);
    await c.until(/^\+ .*\r\n/);
    for (let i = 0; i < body.length; i += 7) await c.send(body.subarray(i, i + 7));
    await c.send('\r\np5 UID FETCH 1:* (UID X-GM-LABELS FLAGS INTERNALDATE)\r\n');
    const out = await c.until(/p5 OK.*\r\n/);
    expect(out).toMatch(/^\* 1 EXISTS\r\np4 OK \[APPENDUID \d+ 1\] APPEND completed\r\n/);
    expect(out).toContain('* 1 FETCH (UID 1 X-GM-LABELS ("\\\\Inbox" "\\\\Starred") FLAGS (\\Flagged) INTERNALDATE "03-Feb-2021 09:11:12 +0000")');
    expect(server.messages(USER)[0]?.raw.equals(body)).toBe(true);
    // BODY[] (not PEEK) marks the message read and says so.
    await c.send('p6 FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])\r\n');
    expect(await c.until(/p6 OK.*\r\n/)).toContain('BODY[HEADER.FIELDS (SUBJECT)] {20}\r\nSubject: chunked\r\n\r\n FLAGS (\\Flagged \\Seen))');
  });

  it('refuses a LITERAL- literal over 4096 bytes with BAD, and an APPEND over APPENDLIMIT with TOOBIG', async () => {
    const c = await open();
    await c.send(`l1 LOGIN ${USER} "${PASS}"\r\n`);
    await c.until(/l1 OK.*\r\n/);
    await c.send(`l2 APPEND INBOX {5000+}\r\n${'y'.repeat(5000)}\r\nl3 NOOP\r\n`);
    const text = await c.until(/l3 .*\r\n/);
    expect(text).toMatch(/^l2 BAD .*\r\nl3 OK/);
    await c.send('l4 APPEND INBOX {100001}\r\n');
    expect(await c.until(/l4 .*\r\n/)).toBe('l4 NO [TOOBIG] Message too large\r\n'); // no "+": the client sends no literal
    await c.send('l5 NOOP\r\n');
    expect(await c.until(/l5 .*\r\n/)).toBe('l5 OK Success\r\n');
    expect(server.messages(USER)).toEqual([]);
  });

  it("injects a BYE: the server hangs up; 'after' and 'times' choose which matches fire", async () => {
    server.inject({ match: /NOOP/, reply: 'bye', after: 1 });
    server.inject({ match: /CHECK/, reply: (tag) => `${tag} NO custom`, times: 2 });
    const c = await open();
    await c.send(`x1 LOGIN ${USER} "${PASS}"\r\nx2 SELECT INBOX\r\nx3 CHECK\r\nx4 CHECK\r\nx5 CHECK\r\nx6 NOOP\r\n`);
    expect(await c.until(/x6 OK.*\r\n/)).toMatch(/x3 NO custom\r\nx4 NO custom\r\nx5 OK/);
    await c.send('x7 NOOP\r\n');
    expect(await c.until(/\* BYE .*\r\n/)).toBe('* BYE [UNAVAILABLE] Temporary System Problem. Try again later\r\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.closed).toBe(true);
    expect(server.injections().map((i) => i.fired)).toEqual([1, 2]);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { runCli } from './support/cli.js';

const PASSWORD = 'pw-Profiles-3';
const work = mkdtempSync(join(tmpdir(), 'mf-profiles-'));
let marked: DovecotServer; // Sent/Drafts/Trash/Junk/Archive carry SPECIAL-USE attributes
let unmarked: DovecotServer; // no folder carries one: special uses must come from names

const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
const url = (s: DovecotServer, user: string) => `imap://${user}@${s.host}:${s.port}`;

function message(subject: string, bodyBytes = 300): Buffer {
  return Buffer.from(`From: a@example.org\r\nTo: b@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@p>\r\n\r\n${'x'.repeat(bodyBytes)}\r\n`);
}

async function withClient<T>(s: DovecotServer, user: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = new ImapFlow({ host: s.host, port: s.port, secure: false, doSTARTTLS: false, auth: { user, pass: PASSWORD }, logger: false });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}

async function folderNames(s: DovecotServer, user: string): Promise<string[]> {
  return withClient(s, user, async (c) => (await c.list()).map((f) => f.path).sort());
}

async function flagsIn(s: DovecotServer, user: string, folder: string): Promise<string[][]> {
  return withClient(s, user, async (c) => {
    await c.mailboxOpen(folder, { readOnly: true });
    // \Recent is session state (whoever looks first), not the message's.
    return (await c.fetchAll('1:*', { flags: true })).map((m) => [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort());
  });
}

function migrate(from: string, to: string, state: string, extra: string[] = []) {
  return runCli(['migrate', '--from', from, '--to', to, '--from-ca', marked.caFile, '--to-ca', unmarked.caFile, '--state', join(work, state), '--json', ...extra], env);
}

/**
 * Makes a Dovecot act like iCloud, which sets \Seen when a body is fetched even with BODY.PEEK
 * and in a read-only EXAMINE: the client's commands are rewritten to BODY[] and SELECT.
 */
async function startSeenSettingProxy(target: DovecotServer): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    let pending = '';
    client.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      const end = pending.lastIndexOf('\r\n') + 2; // whole command lines only
      if (end < 2) return;
      upstream.write(Buffer.from(pending.slice(0, end).replace(/BODY\.PEEK\[/g, 'BODY[').replace(/^(\S+ )EXAMINE /gm, '$1SELECT '), 'latin1'));
      pending = pending.slice(end);
    });
    upstream.pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) socket.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function profileFile(content: unknown): string {
  const path = join(work, `profiles-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

beforeAll(async () => {
  [marked, unmarked] = await Promise.all([
    startDovecot({ users: ['src', 'back', 'quirk'].map((name) => ({ name, password: PASSWORD })) }),
    startDovecot({
      users: ['de', 'fr', 'cust', 'ex', 'plain', 'm365', 'q1', 'q2'].map((name) => ({ name, password: PASSWORD })),
      specialUse: false,
    }),
  ]);
  await withClient(marked, 'src', async (c) => {
    for (const path of ['Files', '[Gmail]', '[Gmail]/Chats']) await c.mailboxCreate(path);
    const plan: Array<[string, number]> = [['INBOX', 3], ['Sent', 2], ['Trash', 1], ['Files', 1], ['[Gmail]/Chats', 1]];
    for (const [path, n] of plan) for (let i = 0; i < n; i++) await c.append(path, message(`${path} ${i}`), [], new Date(Date.UTC(2020, i, 1)));
    // A read receipt already sent, a keyword of the user's own, and one message of 60 kB.
    await c.append('INBOX', message('receipt'), ['\\Seen', '$MDNSent', 'Project_X'], new Date(Date.UTC(2021, 0, 1)));
    await c.append('INBOX', message('big', 60_000), ['$MDNSent'], new Date(Date.UTC(2021, 1, 1)));
  });
  await withClient(marked, 'quirk', async (c) => {
    for (const [i, flags] of [[], ['\\Seen'], ['$Label1']].entries()) await c.append('INBOX', message(`quirk ${i}`), flags, new Date(Date.UTC(2022, i, 1)));
  });
  const localized: Record<string, string[]> = {
    de: ['Gesendete Elemente', 'Gelöschte Elemente', 'Entwürfe'],
    fr: ['Éléments envoyés', 'Éléments supprimés', 'Brouillons'],
    cust: ['Gesendete Elemente', 'Ausgang'],
  };
  for (const [user, folders] of Object.entries(localized)) {
    await withClient(unmarked, user, async (c) => {
      for (const f of folders) await c.mailboxCreate(f);
    });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([marked?.stop(), unmarked?.stop()]);
});

describe('special-use folders by localized name, on a server that marks none', () => {
  it.each([
    ['de', { Sent: 'Gesendete Elemente', Trash: 'Gelöschte Elemente' }],
    ['fr', { Sent: 'Éléments envoyés', Trash: 'Éléments supprimés' }],
  ])('a destination whose folders are named in %s receives Sent and Trash in them', async (user, expected) => {
    const run = await migrate(url(marked, 'src'), url(unmarked, user), `to-${user}.sqlite`);
    expect(run.code).toBe(0);
    const byName = Object.fromEntries(JSON.parse(run.stdout).folders.map((f: { source: string; destination: string }) => [f.source, f.destination]));
    expect(byName).toMatchObject(expected);
    const names = await folderNames(unmarked, user);
    expect(names).not.toContain('Sent');
    expect(names).not.toContain('Trash');
  });

  it('a source without SPECIAL-USE has its localized Sent mapped to the destination’s \\Sent', async () => {
    const run = await migrate(url(unmarked, 'de'), url(marked, 'back'), 'de-back.sqlite');
    expect(run.code).toBe(0);
    const byName = Object.fromEntries(JSON.parse(run.stdout).folders.map((f: { source: string; destination: string }) => [f.source, f.destination]));
    expect(byName).toMatchObject({ 'Gesendete Elemente': 'Sent', 'Gelöschte Elemente': 'Trash', Entwürfe: 'Drafts' });
  });

  it('the profile’s names are the only ones used, so a --profile-file can say which folder is Sent', async () => {
    const custom = profileFile({ corp: { extends: 'dovecot', folders: { specialUse: { sent: ['Ausgang'] } } } });
    const dry = await migrate(url(marked, 'src'), url(unmarked, 'cust'), 'cust.sqlite', ['--dry-run', '--folder', 'Sent', '--to-profile', 'corp', '--profile-file', custom]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).folders).toEqual([expect.objectContaining({ source: 'Sent', destination: 'Ausgang' })]);
    // Without that profile, generic's names find 'Gesendete Elemente'.
    const plain = await migrate(url(marked, 'src'), url(unmarked, 'cust'), 'cust.sqlite', ['--dry-run', '--folder', 'Sent']);
    expect(JSON.parse(plain.stdout).folders).toEqual([expect.objectContaining({ source: 'Sent', destination: 'Gesendete Elemente' })]);
  });
});

describe('a destination profile', () => {
  it('exchange: $MDNSent is dropped, messages over its size limit are skipped as too-large, connections are capped', async () => {
    const lowered = profileFile({ exchange: { limits: { maxMessageSize: 20_000, connections: 2 } } });
    const run = await migrate(url(marked, 'src'), url(unmarked, 'ex'), 'ex.sqlite', ['--folder', 'INBOX', '--to-profile', 'exchange', '--profile-file', lowered, '--connections', '4']);
    expect(run.code).toBe(0);
    const inbox = JSON.parse(run.stdout).folders[0];
    expect(inbox).toMatchObject({ copied: 4, skipped: { 'too-large': 1 }, failed: 0 });
    expect(run.stderr).toMatch(/profile exchange allows 2 connections per account: --connections lowered from 4 to 2/);
    const flags = await flagsIn(unmarked, 'ex', 'INBOX');
    expect(flags.flat()).not.toContain('$MDNSent');
    expect(flags).toContainEqual(['Project_X', '\\Seen']);

    // The same messages toward a server without that profile keep the keyword.
    const control = await migrate(url(marked, 'src'), url(unmarked, 'plain'), 'plain.sqlite', ['--folder', 'INBOX']);
    expect(control.code).toBe(0);
    expect((await flagsIn(unmarked, 'plain', 'INBOX')).flat()).toContain('$MDNSent');
  });

  it('gmail to microsoft365: the source’s Chats are left out, a folder named like a reserved one is renamed, rate limits come from the profiles', async () => {
    const run = await migrate(url(marked, 'src'), url(unmarked, 'm365'), 'm365.sqlite', ['--from-profile', 'gmail', '--to-profile', 'microsoft365']);
    expect(run.code).toBe(0);
    const byName = Object.fromEntries(JSON.parse(run.stdout).folders.map((f: { source: string; destination: string }) => [f.source, f.destination]));
    expect(byName).not.toHaveProperty(['[Gmail]/Chats']);
    expect(byName.Files).toBe('Files_renamed');
    expect(await folderNames(unmarked, 'm365')).not.toContain('Files');
    expect(run.stderr).toMatch(/profile gmail leaves out source folders matching \^\\\[\(Gmail\|Google Mail\)\\\]\/Chats\$/);
    expect(run.stderr).toMatch(/profile gmail: --daily-limit-down 2500000000/);
    expect(run.stderr).toMatch(/profile microsoft365: --max-messages-per-second 4/);
    expect((await flagsIn(unmarked, 'm365', 'INBOX')).flat()).not.toContain('$MDNSent');

    // verify knows the destination never takes $MDNSent: its absence is no difference.
    const sides = ['--from', url(marked, 'src'), '--to', url(unmarked, 'm365'), '--from-ca', marked.caFile, '--to-ca', unmarked.caFile, '--from-profile', 'gmail'];
    const check = await runCli(['verify', ...sides, '--to-profile', 'microsoft365'], env);
    expect(check.stdout).not.toMatch(/MDNSent/);
    expect(check.code).toBe(0);
    const strict = await runCli(['verify', ...sides, '--to-profile', 'generic', '--map', 'Files=Files_renamed'], env);
    expect(strict.stdout).toMatch(/MDNSent/);
    expect(strict.code).toBe(1);
  });
});

describe('a source profile', () => {
  it('icloud: \\Seen that the server sets when a message is fetched is put back, at the source and in the copy', async () => {
    const original = await flagsIn(marked, 'quirk', 'INBOX');
    expect(original).toEqual([[], ['\\Seen'], ['$Label1']]);
    const proxy = await startSeenSettingProxy(marked);
    try {
      const viaProxy = `imap://quirk@127.0.0.1:${proxy.port}`;
      // Without the profile the proxied server marks everything read, as iCloud does.
      const plain = await migrate(viaProxy, url(unmarked, 'q1'), 'quirk-plain.sqlite', ['--folder', 'INBOX']);
      expect(plain.code).toBe(0);
      expect(await flagsIn(marked, 'quirk', 'INBOX')).toEqual([['\\Seen'], ['\\Seen'], ['$Label1', '\\Seen']]);
      await withClient(marked, 'quirk', async (c) => {
        await c.mailboxOpen('INBOX');
        await c.messageFlagsRemove('1,3', ['\\Seen']);
      });

      const icloud = await migrate(viaProxy, url(unmarked, 'q2'), 'quirk-icloud.sqlite', ['--folder', 'INBOX', '--from-profile', 'icloud']);
      expect(icloud.code).toBe(0);
      expect(await flagsIn(marked, 'quirk', 'INBOX')).toEqual(original);
      expect(await flagsIn(unmarked, 'q2', 'INBOX')).toEqual(original);
    } finally {
      await proxy.close();
    }
  });
});

describe('profile files and the profiles command', () => {
  it('a broken --profile-file stops the run before connecting, with one line naming the file and field (exit 2)', async () => {
    const broken = profileFile({ gmail: { limits: { connections: 'lots' } } });
    const run = await runCli(['migrate', '--from', 'imaps://a@imap.gmail.com', '--to', 'imaps://b@nowhere.invalid', '--profile-file', broken], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: ${broken}: gmail.limits.connections: Invalid input: expected number, received string\n`);
  });

  it('mailferry profiles lists them; profiles show NAME prints one with --profile-file applied', async () => {
    const list = await runCli(['profiles']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^gmail +imap\.gmail\.com \+1 +XOAUTH2 OAUTHBEARER PLAIN \(mailferry login\) +15 +35\.7 MB +Gmail/m);
    expect(list.stdout).toMatch(/^microsoft365 +outlook\.office365\.com \+3 /m);
    const show = await runCli(['profiles', 'show', 'yahoo', '--profile-file', profileFile({ yahoo: { limits: { connections: 3 } } })]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ name: 'yahoo', limits: { connections: 3 }, quirks: { maxBatch: 1000 } });
    const unknown = await runCli(['profiles', 'show', 'hotmail']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: profiles show hotmail: no such profile \(known: /);
  });
});

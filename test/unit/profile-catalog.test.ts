import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyProfiles, profileForSide } from '../../src/config/profile-apply.js';
import { ProfileCatalog } from '../../src/config/profile-catalog.js';
import { specialUseByName } from '../../src/config/profile-special-use.js';
import type { FolderInfo } from '../../src/domain/types.js';
import { UsageError } from '../../src/errors/errors.js';

const PROFILES_DIR = new URL('../../profiles/', import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'mf-profiles-'));
let n = 0;
/** A --profile-file with this content. */
function userFile(content: unknown): string {
  const path = join(work, `p${n++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
function loadError(content: unknown): string {
  try {
    ProfileCatalog.load(userFile(content));
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('loaded');
}

describe('the built-in profiles', () => {
  const catalog = ProfileCatalog.load();

  it('are the providers the issue names, each valid against the schema', () => {
    expect(catalog.names().sort()).toEqual(
      ['cyrus', 'dovecot', 'exchange', 'fastmail', 'generic', 'gmail', 'gmx', 'google-workspace', 'icloud', 'microsoft365', 'yahoo', 'zoho'].sort(),
    );
  });

  it('cite a source for every group of facts a file writes', () => {
    for (const file of readdirSync(PROFILES_DIR)) {
      const raw = JSON.parse(readFileSync(new URL(file, PROFILES_DIR), 'utf8')) as Record<string, unknown>;
      for (const [group, value] of Object.entries(raw)) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
        expect((value as { source?: string[] }).source, `${file} ${group}`).toEqual(expect.arrayContaining([expect.any(String)]));
      }
    }
  });

  it('never claim the same host twice, so detection is unambiguous', () => {
    const hosts = catalog.all().flatMap((p) => p.hosts);
    expect(new Set(hosts).size).toBe(hosts.length);
  });

  it('are detected from the account host, case and trailing dot aside; anything else is generic', () => {
    expect(catalog.detect('imap.gmail.com').name).toBe('gmail');
    expect(catalog.detect('Outlook.Office365.com.').name).toBe('microsoft365');
    expect(catalog.detect('imap-mail.outlook.com').name).toBe('microsoft365');
    expect(catalog.detect('imap.aol.com').name).toBe('yahoo');
    expect(catalog.detect('imap.web.de').name).toBe('gmx');
    expect(catalog.detect('imap.mail.me.com').name).toBe('icloud');
    expect(catalog.detect('mail.example.org').name).toBe('generic');
    expect(profileForSide(catalog, undefined, 'imaps://a%40b@imap.fastmail.com', '--from-profile').name).toBe('fastmail');
    expect(profileForSide(catalog, 'exchange', 'imaps://a@imap.gmail.com', '--from-profile').name).toBe('exchange');
    expect(() => profileForSide(catalog, 'hotmail', 'imaps://a@x', '--to-profile')).toThrow(/--to-profile hotmail: no such profile \(known: cyrus, dovecot/);
  });

  it('inherit the multilingual special-use names from generic, and carry the quirks the issue lists', () => {
    const sent = catalog.get('microsoft365', 'x').folders.specialUse.sent!;
    for (const name of ['Sent Items', 'Gesendete Elemente', 'Éléments envoyés', 'Elementos enviados', 'Posta inviata', 'Verzonden items', 'Itens Enviados']) {
      expect(sent).toContain(name);
    }
    expect(catalog.get('icloud', 'x').quirks.restoreSeenAfterFetch).toBe(true);
    expect(catalog.get('yahoo', 'x').quirks.maxBatch).toBe(1000);
    expect(catalog.get('microsoft365', 'x').quirks.reservedFolderNames).toEqual(['Files']);
    expect(catalog.get('exchange', 'x').flags.drop).toEqual(['$MDNSent']);
    expect(catalog.get('gmail', 'x').limits).toMatchObject({ connections: 15, dailyBytesDown: 2_500_000_000, dailyBytesUp: 500_000_000, maxMessageSize: 35_651_584 });
    // google-workspace shares Gmail's server, limits and sign-in endpoints but is never guessed.
    expect(catalog.get('google-workspace', 'x')).toMatchObject({ hosts: [], limits: { connections: 15 }, auth: { oauth2: { flow: 'loopback' } } });
  });
});

describe('a --profile-file', () => {
  it('overrides fields of a built-in profile, deep-merged: objects merge, arrays and values replace', () => {
    const catalog = ProfileCatalog.load(userFile({ gmail: { limits: { connections: 5, dailyBytesUp: null }, folders: { exclude: ['^Old$'] } } }));
    const gmail = catalog.get('gmail', 'x');
    expect(gmail.limits).toMatchObject({ connections: 5, dailyBytesUp: null, dailyBytesDown: 2_500_000_000 });
    expect(gmail.folders.exclude).toEqual(['^Old$']);
    expect(gmail.folders.specialUse.sent).toContain('Sent Items');
  });

  it('defines new profiles that extend a built-in one, whose host names win detection', () => {
    const catalog = ProfileCatalog.load(userFile({ corp: { extends: 'dovecot', title: 'Our server', hosts: ['mail.corp.example', 'imap.gmail.com'] } }));
    expect(catalog.detect('mail.corp.example')).toMatchObject({ name: 'corp', title: 'Our server', auth: { mechanisms: ['PLAIN', 'LOGIN', 'XOAUTH2', 'OAUTHBEARER'] } });
    expect(catalog.detect('imap.gmail.com').name).toBe('corp');
  });

  it('that is broken is refused with one line naming the file and the field', () => {
    const wrongType = userFile({ gmail: { limits: { connections: 'many' } } });
    expect(() => ProfileCatalog.load(wrongType)).toThrow(new UsageError(`${wrongType}: gmail.limits.connections: Invalid input: expected number, received string`));
    expect(loadError({ yahoo: { quirks: { maxbatch: 10 } } })).toMatch(/p\d+\.json: yahoo\.quirks\.maxbatch: unknown field$/);
    expect(loadError({ corp: { extends: 'nope' } })).toMatch(/p\d+\.json: corp\.extends: no profile named 'nope'$/);
    expect(loadError({ a: { extends: 'b' }, b: { extends: 'a' } })).toMatch(/p\d+\.json: [ab]\.extends: '[ab]' extends '[ab]' in a circle$/);
    expect(loadError({ gmail: { folders: { exclude: ['[unclosed'] } } })).toMatch(/gmail\.folders\.exclude\.0: not a valid regular expression$/);
    expect(loadError({ gmail: { flags: { drop: ['two words'] } } })).toMatch(/gmail\.flags\.drop\.0: not an IMAP flag or keyword$/);
    expect(loadError({ corp: { hosts: ['Mail.Corp'] } })).toMatch(/corp\.hosts\.0: not a lowercase host name$/);
    expect(loadError('{ "gmail": ')).toMatch(/p\d+\.json: not valid JSON: /);
    expect(loadError([])).toMatch(/p\d+\.json: expected a JSON object$/);
    for (const message of [loadError({ gmail: { limits: { connections: 0 } } }), loadError({ corp: { extends: 'nope' } })]) expect(message).not.toContain('\n');
  });

  it('blames a field nobody wrote on the profile that lacks it', () => {
    const dir = mkdtempSync(join(work, 'builtin-'));
    const { quirks: _quirks, ...generic } = JSON.parse(readFileSync(new URL('generic.json', PROFILES_DIR), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'generic.json'), JSON.stringify(generic));
    expect(() => ProfileCatalog.load(undefined, dir)).toThrow(new UsageError('profiles/generic.json: quirks: missing (expected object)'));
  });
});

describe('special-use folders by name, for a server that marks none', () => {
  const folder = (path: string): FolderInfo => ({ name: path, components: path.split('/'), delimiter: '/', subscribed: true });
  const names = ProfileCatalog.load().get('generic', 'x').folders.specialUse;

  it('finds localized names case-insensitively and in either Unicode normalization', () => {
    const found = specialUseByName(
      [folder('INBOX'), folder('gesendete elemente'), folder('E\u0301le\u0301ments supprime\u0301s'), folder('Courrier indésirable'), folder('Entwürfe'), folder('Work/Sent')],
      names,
    );
    expect(Object.fromEntries(found)).toEqual({
      'gesendete elemente': '\\Sent',
      'E\u0301le\u0301ments supprime\u0301s': '\\Trash',
      'Courrier indésirable': '\\Junk',
      Entwürfe: '\\Drafts',
    });
  });

  it('gives each use to one folder, the earliest name in the list winning', () => {
    const found = specialUseByName([folder('Sent Items'), folder('Sent'), folder('Trash')], names);
    expect(Object.fromEntries(found)).toEqual({ Sent: '\\Sent', Trash: '\\Trash' });
  });
});

describe('applying both sides’ profiles to a run', () => {
  const catalog = ProfileCatalog.load(userFile({ small: { extends: 'dovecot', limits: { connections: 2 } } }));
  const selection = { include: [], exclude: [/^Spam$/], map: [{ from: 'Files', to: 'Mine' }] };

  it('lowers connections to the smaller cap, adds excludes and renames reserved folders after the user’s own', () => {
    const run = applyProfiles({ source: catalog.get('gmail', 'x'), dest: catalog.get('microsoft365', 'x') }, { connections: 20, selection });
    expect(run.connections).toBe(15);
    expect(run.selection.exclude.map(String)).toEqual(['/^Spam$/', '/^\\[(Gmail|Google Mail)\\]\\/Chats$/']);
    expect(run.selection.map).toEqual([{ from: 'Files', to: 'Mine' }, { from: 'Files', to: 'Files_renamed', ifPresent: true }]);
    expect(run.traffic).toBeUndefined();
    expect(run.notices).toContain('profile gmail allows 15 connections per account: --connections lowered from 20 to 15 (one number serves both sides)');
    const both = applyProfiles({ source: catalog.get('gmail', 'x'), dest: catalog.get('small', 'x') }, { connections: 4, selection });
    expect(both.connections).toBe(2);
  });

  it('fills rate limits and daily caps the user left unset: downloads from the source, uploads from the destination', () => {
    const run = applyProfiles({ source: catalog.get('gmail', 'x'), dest: catalog.get('microsoft365', 'x') }, { connections: 4, selection, traffic: { dailyUp: 1 } });
    expect(run.traffic).toEqual({ dailyUp: 1, dailyDown: 2_500_000_000, maxMessagesPerSecond: 4 });
    expect(run.notices).toContain('profile microsoft365: --max-messages-per-second 4 (give the option to change it)');
    const back = applyProfiles({ source: catalog.get('microsoft365', 'x'), dest: catalog.get('gmail', 'x') }, { connections: 4, selection, traffic: {} });
    expect(back.traffic).toEqual({ dailyUp: 500_000_000, maxMessagesPerSecond: 4 });
  });

  it('a message limit per command needs no warning: the IMAP store scans in chunks of it', () => {
    const notices = (source: string) => applyProfiles({ source: catalog.get(source, 'x'), dest: catalog.get('generic', 'x') }, { connections: 4, selection }).notices;
    expect(catalog.get('yahoo', 'x').quirks.maxBatch).toBe(1000);
    expect(notices('yahoo').join()).not.toMatch(/messages per command/);
  });
});

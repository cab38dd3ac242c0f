import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accountKey } from '../../src/bulk/account-key.js';
import { readAccountList } from '../../src/bulk/account-list.js';

const dir = mkdtempSync(join(tmpdir(), 'mf-bulk-list-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function list(name: string, text: string, mode = 0o644): string {
  const file = join(dir, name);
  writeFileSync(file, text, { mode });
  return file;
}

describe('the account list', () => {
  it("CSV: ';' separates a cell's values, profile is the source's, a row without id gets a key from the command and the pair", async () => {
    const file = list('a.csv', '# accounts to move\nfrom,to,folder,exclude,profile,since\nimap://a@old.example,imap://a@new.example, INBOX ; Sent ,^Trash$,dovecot,1y\n\nimap://b@old.example,imap://b@new.example,,,,\n');
    const { accounts, problems } = await readAccountList(file, { command: 'migrate', allowPasswords: false });
    expect(problems).toEqual([]);
    expect(accounts).toEqual([
      { key: accountKey('migrate', 'imap://a@old.example:143', 'imap://a@new.example:143'), origin: { file, line: 3 }, from: 'imap://a@old.example:143', to: 'imap://a@new.example:143', options: { folder: ['INBOX', 'Sent'], exclude: ['^Trash$'], since: '1y', 'from-profile': 'dovecot' } },
      { key: accountKey('migrate', 'imap://b@old.example:143', 'imap://b@new.example:143'), origin: { file, line: 5 }, from: 'imap://b@old.example:143', to: 'imap://b@new.example:143', options: {} },
    ]);
    expect(accountKey('migrate', 'imap://a@old.example:143', 'imap://a@new.example:143')).not.toBe(accountKey('backup', 'imap://a@old.example:143', 'imap://a@new.example:143'));
  });

  it("YAML: defaults apply to the rows that do not give their own; a backup's directory is taken relative to the list", async () => {
    const file = list('b.yaml', "defaults:\n  exclude: '^Junk$'\n  since: 30d\naccounts:\n  - { id: one, from: 'imaps://x@h.example', to: backups/x }\n  - { from: 'imaps://y@h.example', to: /srv/y, exclude: [] , since: 2024-01-01 }\n");
    const { accounts, problems } = await readAccountList(file, { command: 'backup', allowPasswords: false });
    expect(problems).toEqual([]);
    expect(accounts.map((a) => [a.key, a.to, a.options])).toEqual([
      ['one', join(dir, 'backups/x'), { exclude: ['^Junk$'], since: '30d' }],
      [accountKey('backup', 'imaps://y@h.example:993', '/srv/y'), '/srv/y', { exclude: [], since: '2024-01-01' }],
    ]);
  });

  it('password columns, allowed and from a 0600 file, are kept apart from the accounts', async () => {
    const file = list('c.csv', 'id,from,to,from_password\nz,imap://z@h.example,imap://z@k.example,s3cret\n', 0o600);
    const { accounts, passwords, problems } = await readAccountList(file, { command: 'migrate', allowPasswords: true });
    expect(problems).toEqual([]);
    expect(JSON.stringify(accounts)).not.toContain('s3cret');
    expect(passwords.get('z')).toEqual({ from: 's3cret' });
  });

  it('a password in a URL is refused: it would be in the status and the logs', async () => {
    const file = list('d.csv', 'from,to\nimap://u:pw@h.example,imap://u@k.example\n');
    const { problems } = await readAccountList(file, { command: 'migrate', allowPasswords: true });
    expect(problems).toEqual([{ line: 2, column: 1, message: expect.stringMatching(/^from: no password in the URL/) }]);
  });
});

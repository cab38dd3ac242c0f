import { describe, expect, it } from 'vitest';
import { matchAccount } from '../../src/jobs/same-account.js';

const match = (recorded: string, current: string) => matchAccount(recorded, current, 'checkpoint x');

describe('whether a recorded account is the one this run reaches', () => {
  it('is the same account reached another way: another port or scheme, a tunnel on this machine', async () => {
    expect(await match('imap://u@10.0.0.1:143', 'imap://u@10.0.0.1:143')).toEqual({ kind: 'equal' });
    expect((await match('imap://u@10.0.0.1:143', 'imaps://u@10.0.0.1:993')).kind).toBe('reached-another-way');
    expect((await match('imaps://u@Mail.Example:993', 'imaps://u@mail.example:10993')).kind).toBe('reached-another-way');
    expect((await match('imaps://u@mail.example:993', 'imaps://u@127.0.0.1:1993')).kind).toBe('reached-another-way');
    expect((await match('imaps://u%40example.com@[::1]:993', 'imap://u%40example.com@localhost:143')).kind).toBe('reached-another-way');
  });

  it('is another account for another user, two servers that share no address, or what is not an IMAP account', async () => {
    expect(await match('imap://u@10.0.0.1:143', 'imap://v@10.0.0.1:143')).toEqual({ kind: 'refused', why: ': a different user' });
    expect(await match('imap://u@10.0.0.1:143', 'imap://u@10.0.0.2:143')).toEqual({ kind: 'refused', why: ': 10.0.0.1 and 10.0.0.2 are different servers' });
    expect((await match('maildir:/backup/a', 'maildir:/backup/b')).kind).toBe('refused');
  });
});

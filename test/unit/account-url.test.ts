import { describe, expect, it } from 'vitest';
import { endpointLabel, isLoopback, parseAccountUrl } from '../../src/config/account-url.js';

describe('parseAccountUrl', () => {
  it('reads imaps with the default port and a percent-encoded user', () => {
    const e = parseAccountUrl('imaps://alice%40old.example@imap.old.example', '--from');
    expect(e).toMatchObject({ scheme: 'imaps', host: 'imap.old.example', port: 993, user: 'alice@old.example' });
    expect(endpointLabel(e)).toBe('imaps://alice%40old.example@imap.old.example:993');
  });
  it('reads imap with a port', () => {
    expect(parseAccountUrl('imap://bob@127.0.0.1:10143', '--to')).toMatchObject({ scheme: 'imap', port: 10143, user: 'bob' });
  });
  it('keeps a password given in the URL but never prints it', () => {
    const e = parseAccountUrl('imap://bob:s3cret@host', '--to');
    expect(e.password).toBe('s3cret');
    expect(endpointLabel(e)).not.toContain('s3cret');
  });
  it.each([
    ['not a url', /not a URL/],
    ['http://bob@host', /unsupported scheme/],
    ['imap://host', /no user/],
    ['imap://bob@host/INBOX', /unexpected path/],
  ])('refuses %s', (text, message) => {
    expect(() => parseAccountUrl(text, '--from')).toThrow(message);
  });
  it('does not echo a password in an error', () => {
    expect(() => parseAccountUrl('ftp://bob:hunter2@host', '--from')).toThrow(/^(?!.*hunter2)/);
  });
});

describe('isLoopback', () => {
  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.0.0.2', 'localhost', '::1'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1', 'example.com', '128.0.0.1'].some(isLoopback)).toBe(false);
  });
});

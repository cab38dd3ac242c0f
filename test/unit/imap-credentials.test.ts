import { describe, expect, it } from 'vitest';
import { resolveCredentials } from '../../src/auth/imap-credentials.js';
import { parseAccountUrl } from '../../src/config/account-url.js';
import { UsageError } from '../../src/errors/errors.js';

const endpoint = parseAccountUrl('imap://alice@127.0.0.1', '--from');
const sink = () => {
  const secrets: string[] = [];
  return { secrets, addSecret: (s: string) => void secrets.push(s), warn: () => undefined };
};

describe('a password given as a value (the library API)', () => {
  it('is used before the environment, a file or a command, and registered as a secret to redact', async () => {
    const log = sink();
    process.env.MAILFERRY_FROM_PASSWORD = 'from-env';
    try {
      const credentials = await resolveCredentials('from', { password: 'given', passwordCommand: 'echo from-command' }, endpoint, undefined, log);
      expect(credentials).toEqual({ kind: 'password', password: 'given' });
      expect(log.secrets).toEqual(['given']);
      expect(process.env.MAILFERRY_FROM_PASSWORD).toBe('from-env');
    } finally {
      delete process.env.MAILFERRY_FROM_PASSWORD;
    }
  });

  it('is refused when empty, and beside OAuth2', async () => {
    await expect(resolveCredentials('from', { password: '' }, endpoint, undefined, sink())).rejects.toThrow(new UsageError('--from: the password given is empty'));
    await expect(resolveCredentials('to', { password: 'p', oauth2TokenCommand: 'true' }, endpoint, undefined, sink())).rejects.toThrow(
      new UsageError('--to-oauth2-token-command cannot be combined with a password'),
    );
  });
});

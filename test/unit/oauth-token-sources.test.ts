import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInPath, writeSignIn } from '../../src/auth/sign-in-store.js';
import { storedSignInTokens } from '../../src/auth/stored-sign-in-tokens.js';
import { runTokenCommand } from '../../src/auth/token-command.js';
import { postForm } from '../../src/auth/token-endpoint.js';
import { AuthError, ConnectionError, UsageError } from '../../src/errors/errors.js';

/** A token endpoint whose answer each test decides. */
let answer: (res: ServerResponse, form: URLSearchParams) => void = () => {};
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    answer(res, new URLSearchParams(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => void server.close());

describe('the token endpoint (postForm)', () => {
  it('an answer cut off mid-body is a broken connection (retried), not a refused sign-in', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"access_token": "at-');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const err = await postForm(`${base}/token`, { grant_type: 'refresh_token' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/^lost the connection to http:\/\/127\.0\.0\.1:\d+ while reading its answer: /);
  });

  it('a whole answer that is not JSON is the endpoint refusing (exit 3)', async () => {
    answer = (res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    await expect(postForm(`${base}/token`, {})).rejects.toThrow(AuthError);
    await expect(postForm(`${base}/token`, {})).rejects.toThrow(/answered HTTP 502 without JSON/);
  });
});

describe('a saved sign-in whose file cannot be rewritten', () => {
  it('keeps the run going with the rotated refresh token, and says so', async () => {
    const env = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'mf-signin-')) };
    const path = signInPath('microsoft365', 'u', env);
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    await writeSignIn(path, {
      version: 1,
      profile: 'microsoft365',
      user: 'u',
      clientId: 'c',
      tokenUrl: `${base}/token`,
      scopes: [],
      refreshToken: 'rt-0',
      savedAt: new Date().toISOString(),
    });
    const warnings: string[] = [];
    const tokens = await storedSignInTokens({ profile: 'microsoft365', user: 'u', option: '--from-oauth2' }, () => {}, env, (m) => warnings.push(m));
    // The file's place is taken by a directory: the atomic rename fails (as on a full or read-only disk).
    rmSync(path);
    mkdirSync(path);
    const presented: string[] = [];
    answer = (res, form) => {
      const n = presented.push(form.get('refresh_token') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `at-${n}`, refresh_token: `rt-${n}`, expires_in: 3600 }));
    };
    expect(await tokens.token()).toBe('at-1');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^--from-oauth2: could not save the renewed sign-in to .*u\.json \(EISDIR\); this run goes on, but a later one may need mailferry login microsoft365 --user u again$/);
    tokens.invalidate('at-1');
    expect(await tokens.token()).toBe('at-2');
    // The provider rotated the refresh token; the second refresh presents the new one from memory.
    expect(presented).toEqual(['rt-0', 'rt-1']);
    expect(warnings).toHaveLength(2);
  });
});

describe('the token command', () => {
  it('says why it failed, never echoing its output', async () => {
    await expect(runTokenCommand('echo secret-ish >&2; exit 3', '--from-oauth2-token-command')).rejects.toThrow(new UsageError('--from-oauth2-token-command: the command failed (exit 3)'));
    await expect(runTokenCommand('kill -9 $$', '--x')).rejects.toThrow(/^--x: the command failed \(killed by SIGKILL\)$/);
    await expect(runTokenCommand('head -c 100000 /dev/zero | tr "\\0" a', '--x')).rejects.toThrow(/printed more than one access token's worth/);
  });
});

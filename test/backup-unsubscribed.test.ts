import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { connectPlain } from '../src/sandbox/seed.js';
import { runCli } from './support/cli.js';

const PASSWORD = 'pw-Unsubscribed-4';
const work = mkdtempSync(join(tmpdir(), 'mf-unsub-'));
let server: DovecotServer;

beforeAll(async () => {
  server = await startDovecot({ users: [{ name: 'u', password: PASSWORD }] });
  const c = await connectPlain({ host: server.host, port: server.port, user: 'u', password: PASSWORD });
  try {
    // Folders nobody subscribed, as a server-side import or another tool leaves them.
    for (const name of ['Old', 'Old/2019']) {
      await c.mailboxCreate(name);
      await c.mailboxUnsubscribe(name);
      await c.append(name, Buffer.from(`Subject: ${name}\r\n\r\nbody\r\n`), [], new Date('2019-05-01T00:00:00Z'));
    }
  } finally {
    await c.logout();
  }
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('backup of folders nobody subscribed', () => {
  it.each(['maildir', 'mbox'])('records them as unsubscribed in the %s manifest, and the nightly rerun reads it back', async (format) => {
    const to = join(work, format);
    const args = ['backup', '--from', `imap://u@${server.host}:${server.port}`, '--to', to, '--format', format, '--json'];
    const env = { MAILFERRY_FROM_PASSWORD: PASSWORD };
    const first = await runCli(args, env);
    expect(first.code, first.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(to, 'manifest.json'), 'utf8')) as { folders: Array<{ components: string[]; subscribed: boolean }> };
    expect(manifest.folders.find((f) => f.components.join('/') === 'Old/2019')?.subscribed).toBe(false);
    const rerun = await runCli(args, env);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout).totals.copied).toBe(0);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../../src/sandbox/dovecot-server.js';
import { generateCorpus } from '../../src/sandbox/corpus.js';
import { seedAccount } from '../../src/sandbox/seed.js';
import { diffSnapshots, snapshotAccount } from '../support/oracle.js';
import { runCli } from '../support/cli.js';
import { startSlowLink, type SlowLink } from '../support/slow-link.js';

const PASSWORD = 'pw-Soak20-1';
const work = mkdtempSync(join(tmpdir(), 'mf-soak-slow-'));
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, XDG_STATE_HOME: join(work, 'state') };
let server: DovecotServer;
let link: SlowLink;
const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });

beforeAll(async () => {
  server = await startDovecot({ users: ['src', 'dst'].map((name) => ({ name, password: PASSWORD })) });
  await seedAccount(addr('src'), generateCorpus({ seed: 20, messages: 5, bigMessages: [20_000_000] }));
  link = await startSlowLink({ host: server.host, port: server.port }, 50_000, 'down');
}, 120_000);

afterAll(async () => {
  await link?.close();
  await server?.stop();
});

describe('soak: a slow link', () => {
  it('a 20 MB message downloaded at 50 KB/s (about 7 minutes) with the default --timeout is copied, no timeout firing while bytes flow', async () => {
    const run = await runCli(['migrate', '--from', `imap://src@${server.host}:${link.port}`, '--to', `imap://dst@${server.host}:${server.port}`, '--state', join(work, 'dst.sqlite'), '--json'], env);
    expect(run.stderr).not.toMatch(/retry|timed out|not available/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).totals).toMatchObject({ copied: 6, failed: 0 });
    const diff = diffSnapshots(await snapshotAccount(addr('src')), await snapshotAccount(addr('dst')));
    expect(diff.details).toEqual([]);
  }, 900_000);
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { seedAccount } from '../src/sandbox/seed.js';
import { runCli } from './support/cli.js';
import { diffSnapshots, snapshotAccount } from './support/oracle.js';

const PASSWORD = 'pw-Admin-9';
const MASTER_PASSWORD = 'master-Secret-4';
const work = mkdtempSync(join(tmpdir(), 'mf-admin-'));
let server: DovecotServer; // master user 'admin' may log in as anyone
const CORPUS = { seed: 71, messages: 30, folders: 16, maxSize: 20_000 };

const addr = (user: string) => ({ host: server.host, port: server.port, user, password: PASSWORD });
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
const asAdmin = { MAILFERRY_FROM_PASSWORD: MASTER_PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };

beforeAll(async () => {
  server = await startDovecot({
    users: ['alice', 'bob', 'carol'].map((name) => ({ name, password: PASSWORD })),
    masterUsers: [{ name: 'admin', password: MASTER_PASSWORD }],
  });
  await seedAccount(addr('alice'), generateCorpus(CORPUS), { folders: corpusFolders(CORPUS) });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('an administrator moving a user’s mailbox', () => {
  it('--from-authzid: the admin’s login and password open the user’s mailbox (SASL PLAIN authorization identity)', async () => {
    const run = await runCli(['migrate', '--from', url('admin'), '--from-authzid', 'alice', '--to', url('bob'), '--state', join(work, 'authzid.sqlite'), '--json', '--debug'], asAdmin);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/AUTHENTICATE PLAIN/);
    expect(run.stderr).not.toContain(MASTER_PASSWORD);
    // The account is the mailbox logged into, so its checkpoint is alice's, not the admin's.
    expect(JSON.parse(run.stdout).source).toMatch(/^imap:\/\/alice@127\.0\.0\.1:\d+$/);
    expect(diffSnapshots(await snapshotAccount(addr('alice')), await snapshotAccount(addr('bob'))).details).toEqual([]);
  });

  it('Dovecot’s user*master login form works as an ordinary account URL', async () => {
    const run = await runCli(['migrate', '--from', url('alice*admin'), '--to', url('carol'), '--state', join(work, 'master.sqlite'), '--json'], asAdmin);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).totals.copied).toBe(CORPUS.messages);
  });

  it('a wrong admin password is an authentication failure (exit 3); authzid with OAuth2 is refused (exit 2)', async () => {
    const wrong = await runCli(['migrate', '--from', url('admin'), '--from-authzid', 'alice', '--to', url('bob'), '--dry-run'], { ...asAdmin, MAILFERRY_FROM_PASSWORD: 'nope-nope' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/^error: cannot log in to imap:\/\/alice@127\.0\.0\.1:\d+: authentication failed$/m);
    const oauth = await runCli(['migrate', '--from', url('admin'), '--from-authzid', 'alice', '--from-oauth2-token-command', 'echo t', '--to', url('bob'), '--dry-run'], asAdmin);
    expect(oauth.code).toBe(2);
    expect(oauth.stderr).toBe('error: --from-oauth2-token-command cannot be combined with --from-authzid (SASL PLAIN only)\n');
  });
});

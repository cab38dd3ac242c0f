import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import { corpusFolders, generateCorpus } from '../src/sandbox/corpus.js';
import { connectPlain, seedAccount } from '../src/sandbox/seed.js';
import { runCli } from './support/cli.js';

const PASSWORD = 'pw-Verify-3';
const work = mkdtempSync(join(tmpdir(), 'mf-verify-'));
let server: DovecotServer;
const env = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD };
const url = (user: string) => `imap://${user}@${server.host}:${server.port}`;
const sides = (from: string, to: string) => ['--from', url(from), '--to', url(to), '--from-ca', server.caFile, '--to-ca', server.caFile];

beforeAll(async () => {
  server = await startDovecot({ users: ['vsrc', 'vdst'].map((name) => ({ name, password: PASSWORD })) });
  const opts = { seed: 31, messages: 80, folders: 6 };
  await seedAccount({ host: server.host, port: server.port, user: 'vsrc', password: PASSWORD }, generateCorpus(opts), { folders: corpusFolders(opts) });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('mailferry verify', () => {
  it('migrate --verify compares both accounts after the copy and finds them equal', async () => {
    const run = await runCli(['migrate', ...sides('vsrc', 'vdst'), '--state', join(work, 'state.sqlite'), '--verify', '--json'], env);
    expect(run.code, run.stderr + JSON.stringify(JSON.parse(run.stdout).verify)).toBe(0);
    expect(JSON.parse(run.stdout).verify).toMatchObject({ equal: true, quick: false });
  });

  it('exits 0 on identical sides, full and quick', async () => {
    for (const extra of [[], ['--quick']]) {
      const run = await runCli(['verify', ...sides('vsrc', 'vdst'), ...extra], env);
      expect(run.stderr).toBe('');
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(/EQUAL/);
    }
  });

  it('names a deleted message, an added duplicate, a changed flag and a changed INTERNALDATE, and exits 1', async () => {
    const dst = await connectPlain({ host: server.host, port: server.port, user: 'vdst', password: PASSWORD });
    try {
      await dst.mailboxOpen('INBOX');
      const [first, second, third, fourth] = (await dst.fetchAll('1:4', { uid: true, source: true, flags: true, internalDate: true, envelope: true })).map((m) => m);
      await dst.messageDelete(String(first!.uid), { uid: true });
      await dst.append('INBOX', second!.source!, [...(second!.flags ?? [])], second!.internalDate as Date);
      await dst.messageFlagsAdd(String(third!.uid), ['\\Flagged', '$Checked'], { uid: true });
      await dst.messageDelete(String(fourth!.uid), { uid: true });
      await dst.append('INBOX', fourth!.source!, [...(fourth!.flags ?? [])], new Date('2001-02-03T04:05:06Z'));
    } finally {
      await dst.logout();
    }

    const full = await runCli(['verify', ...sides('vsrc', 'vdst')], env);
    expect(full.code).toBe(1);
    expect(full.stdout).toMatch(/^INBOX -> INBOX: .*1 missing, 1 duplicated, 1 flag difference, 1 date difference$/m);
    expect(full.stdout).toMatch(/^ {2}missing {5}UID 1, /m);
    expect(full.stdout).toMatch(/^ {2}duplicated {2}UID \d+, /m);
    expect(full.stdout).toMatch(/^ {2}flags {7}UID 3, .* vs \(\$Checked .*\\Flagged.*\) at UID 3$/m);
    expect(full.stdout).toMatch(/^ {2}date {8}UID 4, .*vs 2001-02-03T04:05:06\.000Z/m);
    expect(full.stdout).toMatch(/DIFFERENT/);

    const quick = await runCli(['verify', ...sides('vsrc', 'vdst'), '--quick', '--json'], env);
    expect(quick.code).toBe(1);
    const inbox = JSON.parse(quick.stdout).folders.find((f: { source: string }) => f.source === 'INBOX');
    expect(inbox.missing.map((m: { uid: number }) => m.uid)).toEqual([1]);
    expect(inbox.duplicated).toHaveLength(1);
    expect(inbox.flagDiffs).toHaveLength(1);
  });

  it('folders lists special-use, counts and sizes, and with --to the mapping with both sides counts', async () => {
    const one = await runCli(['folders', '--from', url('vsrc'), '--from-ca', server.caFile], env);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^folder +use +subscribed +messages +size$/m);
    expect(one.stdout).toMatch(/^Sent +\\Sent +yes +4 +\d/m);
    expect(one.stdout).toMatch(/^16 folders, 80 messages at imap:\/\/vsrc@/m);

    const both = await runCli(['folders', ...sides('vsrc', 'vdst'), '--json'], env);
    expect(both.code).toBe(0);
    const listing = JSON.parse(both.stdout);
    expect(listing.folders.find((f: { name: string }) => f.name === 'Work')).toMatchObject({ messages: 5, destination: { name: 'Work', exists: true, messages: 5 } });
  });

  it('is read-only: the source flags and UIDNEXT are unchanged by verify', async () => {
    const status = async () => {
      const c = await connectPlain({ host: server.host, port: server.port, user: 'vsrc', password: PASSWORD });
      try {
        return await c.status('INBOX', { uidNext: true, unseen: true, highestModseq: true });
      } finally {
        await c.logout();
      }
    };
    const before = await status();
    await runCli(['verify', ...sides('vsrc', 'vdst')], env);
    expect(await status()).toEqual(before);
  });
});

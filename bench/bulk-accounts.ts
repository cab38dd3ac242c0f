// The bulk benchmark's accounts: N source users holding 2–30 small text messages each, written
// straight into their Maildirs (Dovecot indexes them on first access), and N empty destinations.
import { createHash } from 'node:crypto';
import { chown, mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DovecotServer } from '../src/sandbox/dovecot-server.js';

export const BULK_PASSWORD = 'bench-bulk-pw';

export const sourceUser = (i: number): string => `src${String(i).padStart(5, '0')}`;
export const destinationUser = (i: number): string => `dst${String(i).padStart(5, '0')}`;

/** 2 to 30 messages, spread evenly over the accounts by a fixed permutation. */
export const messagesOf = (i: number): number => 2 + ((i * 7919) % 29);

export interface BulkCorpus {
  accounts: number;
  messages: number;
  bytes: number;
}

/** A small text message, a pure function of (account, index). */
function message(account: number, index: number): Buffer {
  const seed = createHash('sha256').update(`${account}/${index}`).digest('hex');
  const lines = 10 + (parseInt(seed.slice(0, 4), 16) % 60);
  const body = Array.from({ length: lines }, (_, l) => `Line ${l} of message ${index} for account ${account}: ${seed.slice(0, 40 + (l % 24))}`);
  return Buffer.from(
    [
      `From: Sender ${index} <sender${index}@bench.example>`,
      `To: ${sourceUser(account)}@bench.example`,
      `Subject: bulk bench ${account}/${index}`,
      `Date: ${new Date(Date.UTC(2024, 0, 1) + index * 3_600_000).toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: <${seed.slice(0, 24)}@bench.example>`,
      'Content-Type: text/plain; charset=us-ascii',
      '',
      ...body,
      '',
    ].join('\r\n'),
  );
}

/** Adds the source and destination users and writes the sources' mail. */
export async function loadBulkCorpus(server: DovecotServer, accounts: number): Promise<BulkCorpus> {
  const users = [];
  for (let i = 0; i < accounts; i++) users.push({ name: sourceUser(i), password: BULK_PASSWORD }, { name: destinationUser(i), password: BULK_PASSWORD });
  await server.addUsers(users);
  const owner = process.getuid?.() === 0 ? await ownerOf(server) : undefined;
  let messages = 0;
  let bytes = 0;
  for (let i = 0; i < accounts; i++) {
    const cur = join(server.mailHome(sourceUser(i)), 'Maildir', 'cur');
    for (let m = 0; m < messagesOf(i); m++) {
      const raw = message(i, m);
      const file = join(cur, `${1700000000 + m}.M${m}P${i}.bench,S=${raw.length}:2,S`);
      await writeFile(file, raw);
      const when = new Date(Date.UTC(2024, 0, 1) + m * 3_600_000);
      await utimes(file, when, when);
      if (owner) await chown(file, owner.uid, owner.gid);
      messages += 1;
      bytes += raw.length;
    }
  }
  return { accounts, messages, bytes };
}

/** Empties every destination (between the runs of the benchmark): Maildir and Dovecot's indexes. */
export async function emptyDestinations(server: DovecotServer, accounts: number): Promise<void> {
  const owner = process.getuid?.() === 0 ? await ownerOf(server) : undefined;
  for (let i = 0; i < accounts; i++) {
    const maildir = join(server.mailHome(destinationUser(i)), 'Maildir');
    await rm(maildir, { recursive: true, force: true });
    for (const sub of ['', 'cur', 'new', 'tmp']) {
      await mkdir(join(maildir, sub), { mode: 0o700 });
      if (owner) await chown(join(maildir, sub), owner.uid, owner.gid);
    }
  }
}

/** Messages in each destination's INBOX, counted on disk (cur/ and new/), independently of any tool. */
export async function destinationCounts(server: DovecotServer, accounts: number): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < accounts; i++) {
    const maildir = join(server.mailHome(destinationUser(i)), 'Maildir');
    const [cur, fresh] = await Promise.all(['cur', 'new'].map((d) => readdir(join(maildir, d)).catch(() => [])));
    counts.push(cur!.length + fresh!.length);
  }
  return counts;
}

async function ownerOf(server: DovecotServer): Promise<{ uid: number; gid: number }> {
  const s = await stat(server.mailHome(sourceUser(0)));
  return { uid: s.uid, gid: s.gid };
}

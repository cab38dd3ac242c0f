// Counting what a tool left at its destination, independently of what the tool says: a run that
// did not do its job must fail the benchmark, never give a figure.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DovecotServer } from '../src/sandbox/dovecot-server.js';

/** Messages per mailbox of a Dovecot user, from its indexes. */
export async function mailboxCounts(server: DovecotServer, user: string): Promise<Map<string, number>> {
  const out = await server.doveadm(['mailbox', 'status', '-u', user, 'messages', '*']);
  const counts = new Map<string, number>();
  for (const line of out.split('\n').filter(Boolean)) {
    const m = /^(.*) messages=(\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected doveadm mailbox status line ${JSON.stringify(line)}`);
    counts.set(m[1]!, Number(m[2]));
  }
  return counts;
}

export async function accountMessages(server: DovecotServer, user: string): Promise<number> {
  return sum((await mailboxCounts(server, user)).values());
}

/** Files in every cur/ and new/ below dir, whatever the folder layout (fs, Maildir++, dotted). */
export async function maildirMessages(dir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && ['cur', 'new'].includes(basename(entry.parentPath))) count++;
  }
  return count;
}

/**
 * `From ` separator lines in the mbox files below dir. mboxrd quotes every body line that starts
 * with `From ` (corpus.ts has such lines), so each separator is one message.
 */
export async function mboxMessages(dir: string, isMbox: (file: string) => boolean): Promise<number> {
  let count = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const file = join(entry.parentPath, entry.name);
    if (entry.isFile() && isMbox(file)) count += await countSeparators(file);
  }
  return count;
}

async function countSeparators(file: string): Promise<number> {
  const separator = Buffer.from('\nFrom ');
  let count = 0;
  // The tail of the previous chunk, shorter than a separator, so nothing is counted twice; a
  // leading newline makes the file's first line count too.
  let tail = Buffer.from('\n');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf = Buffer.concat([tail, chunk]);
    for (let at = buf.indexOf(separator); at >= 0; at = buf.indexOf(separator, at + 1)) count++;
    tail = buf.subarray(Math.max(0, buf.length - (separator.length - 1)));
  }
  return count;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

// Corpus loading fast path: writes messages straight into a Dovecot user's Maildir and lets
// `doveadm force-resync` index them. About 20x faster than APPEND through IMAP (seed.ts), which
// matters for 50,000 messages inside a 20-minute benchmark.
import { chownSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KEYWORDS, type CorpusMessage } from '../src/sandbox/corpus.js';
import type { DovecotServer } from '../src/sandbox/dovecot-server.js';
import { messagesOf, type BenchCorpus } from './corpora.js';
import { median } from './measure.js';
import { mailboxCounts } from './verify.js';

/** Maildir info letters of the system flags (they must appear in ASCII order). */
const SYSTEM_FLAGS: Record<string, string> = { '\\Draft': 'D', '\\Flagged': 'F', '\\Answered': 'R', '\\Seen': 'S', '\\Deleted': 'T' };
/** Keyword i is letter a+i, as listed in each folder's dovecot-keywords file. */
const KEYWORD_LETTERS = new Map<string, string>(KEYWORDS.map((k, i) => [k, String.fromCharCode(97 + i)]));

export interface Loaded {
  messages: number;
  bytes: number;
  medianBytes: number;
  /** messages of 100 KB or more: the attachment-bearing share */
  over100k: number;
  folders: number;
}

/**
 * One user's Maildir being filled. Folder paths are mailbox names with the sandbox's default `/`
 * separator; their directories come from `doveadm mailbox path`, which also does the modified
 * UTF-7 of non-ASCII names.
 */
export class MaildirWriter {
  private readonly counts = new Map<string, number>();
  private readonly sizes: number[] = [];

  private constructor(
    private readonly server: DovecotServer,
    private readonly user: string,
    private readonly dirs: Map<string, string>,
    /** as root, the files must belong to the mail uid, like the home Dovecot created */
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  static async open(server: DovecotServer, user: string, folders: string[]): Promise<MaildirWriter> {
    const existing = new Set((await server.doveadm(['mailbox', 'list', '-u', user])).split('\n').filter(Boolean));
    const missing = folders.filter((f) => !existing.has(f));
    if (missing.length > 0) await server.doveadm(['mailbox', 'create', '-u', user, ...missing]);
    const dirs = new Map<string, string>();
    for (const folder of folders) {
      const dir = (await server.doveadm(['mailbox', 'path', '-u', user, '-t', 'mailbox', folder])).trim();
      // Dovecot reads the keyword letters from here on its next sync.
      await writeFile(join(dir, 'dovecot-keywords'), KEYWORDS.map((k, i) => `${i} ${k}\n`).join(''));
      dirs.set(folder, dir);
    }
    const home = statSync(server.mailHome(user));
    const owner = process.getuid?.() === 0 ? { uid: home.uid, gid: home.gid } : undefined;
    if (owner) for (const dir of dirs.values()) chownSync(join(dir, 'dovecot-keywords'), owner.uid, owner.gid);
    return new MaildirWriter(server, user, dirs, owner);
  }

  /** Synchronous, like the generator feeding it: one message in memory at a time. */
  add(message: CorpusMessage): void {
    const dir = this.dirs.get(message.folder);
    if (dir === undefined) throw new Error(`corpus folder ${message.folder} was not created for ${this.user}`);
    const size = message.raw.length;
    const next = this.sizes.length;
    // corpus.ts writes CRLF throughout, so the virtual size W= equals the file size. A name that
    // grows with `next` makes Dovecot hand out UIDs in corpus order.
    const name = `${1_000_000_000 + next}.M${next}P0.mailferry-bench,S=${size},W=${size}:2,${this.infoLetters(message.flags)}`;
    const file = join(dir, 'cur', name);
    writeFileSync(file, message.raw, { mode: 0o600 });
    if (this.owner) chownSync(file, this.owner.uid, this.owner.gid);
    // A Maildir message's INTERNALDATE is its file's mtime.
    utimesSync(file, message.internalDate, message.internalDate);
    this.counts.set(message.folder, (this.counts.get(message.folder) ?? 0) + 1);
    this.sizes.push(size);
  }

  /** Indexes the files and refuses to go on unless Dovecot sees exactly what was written. */
  async finish(): Promise<Loaded> {
    await this.server.doveadm(['force-resync', '-u', this.user, '*']);
    const seen = await mailboxCounts(this.server, this.user);
    for (const [folder, count] of this.counts) {
      if (seen.get(folder) !== count) throw new Error(`loading ${this.user}/${folder}: wrote ${count} messages, Dovecot sees ${seen.get(folder) ?? 'no folder'}`);
    }
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    if (total !== this.sizes.length) throw new Error(`loading ${this.user}: wrote ${this.sizes.length} messages, Dovecot sees ${total}`);
    return {
      messages: this.sizes.length,
      bytes: this.sizes.reduce((a, b) => a + b, 0),
      medianBytes: median(this.sizes),
      over100k: this.sizes.filter((n) => n >= 100_000).length,
      folders: seen.size,
    };
  }

  private infoLetters(flags: string[]): string {
    const letters = flags.map((f) => {
      const letter = SYSTEM_FLAGS[f] ?? KEYWORD_LETTERS.get(f);
      if (letter === undefined) throw new Error(`no Maildir letter for flag ${f}`);
      return letter;
    });
    return letters.sort().join('');
  }
}

/**
 * Loads each corpus into its user. A subset shares its parent's `options`, so the messages are
 * generated once per distinct corpus and handed to every user whose selection takes them.
 */
export async function loadCorpora(server: DovecotServer, corpora: BenchCorpus[]): Promise<Map<BenchCorpus, Loaded>> {
  const loaded = new Map<BenchCorpus, Loaded>();
  for (const options of new Set(corpora.map((c) => c.options))) {
    const group = corpora.filter((c) => c.options === options);
    const writers = await Promise.all(group.map((c) => MaildirWriter.open(server, c.user, c.folders)));
    let index = 0;
    for (const message of messagesOf(group[0]!)) {
      group.forEach((c, k) => {
        if (!c.subset || c.subset.pick(index)) writers[k]!.add(message);
      });
      index++;
    }
    for (const [k, c] of group.entries()) loaded.set(c, await writers[k]!.finish());
  }
  return loaded;
}

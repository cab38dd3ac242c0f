import type { Options } from 'yargs';

/** What a side of verify and folders may be besides an account: what openSide reads from disk. */
const ON_DISK = 'or a path: a backup directory, a .tar.gz/.tgz/.zip archive of one, a Maildir tree, an mbox file or a directory of them';

/**
 * `--from`/`--to` for the commands that only read (verify, folders): an account URL or a path.
 * Spread after `accountOptions`, whose entry it replaces in place.
 */
export function readableSideOption(word: 'from' | 'to', what: string, required = true): Record<string, Options> {
  return {
    [word]: {
      type: 'string',
      ...(required ? { demandOption: true } : {}),
      group: word === 'from' ? 'Source:' : 'Destination:',
      describe: `${what}: an account URL, imaps://user@host[:port] or imap://user@host[:port] (STARTTLS), ${ON_DISK}`,
    },
  };
}

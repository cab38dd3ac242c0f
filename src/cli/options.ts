import type { Options } from 'yargs';
import { UsageError } from '../errors/errors.js';
import { runCriteria } from '../stores/imap/search-criteria.js';
import type { MessageFilter } from '../engine/filters.js';
import type { FolderSelection } from '../engine/folder-map.js';
import { GMAIL_LABEL_OPTIONS } from '../stores/gmail/gmail-labels.js';
import { parseDateOption } from './date-option.js';
import { isRegexMap, parseRegexMap } from '../engine/regex-map.js';

/**
 * Option tables, each declared once and shared by the commands that take it; docs/ lists the same
 * options and a test checks that `--help` and the docs agree.
 */
export function accountOptions(word: 'from' | 'to', what: string): Record<string, Options> {
  const group = word === 'from' ? 'Source:' : 'Destination:';
  return {
    [word]: { type: 'string', demandOption: true, group, describe: `${what} account URL: imaps://user@host[:port] or imap://user@host[:port] (STARTTLS)` },
    [`${word}-password-file`]: { type: 'string', group, describe: `read the password from this file (mode 0600 or stricter); else $MAILFERRY_${word.toUpperCase()}_PASSWORD` },
    [`${word}-password-command`]: { type: 'string', group, describe: 'run this shell command and use its output as the password' },
    [`${word}-ca`]: { type: 'string', group, describe: 'also trust this CA certificate (PEM file)' },
  };
}

/**
 * How one side signs in other than with its own password, and which provider profile it gets.
 * Separate from `accountOptions` because only the commands that apply profiles take them.
 */
export function signInOptions(word: 'from' | 'to'): Record<string, Options> {
  const group = word === 'from' ? 'Source:' : 'Destination:';
  return {
    [`${word}-profile`]: { type: 'string', group, describe: 'provider profile (mailferry profiles lists them); default: the one whose host names include the URL host, else generic' },
    [`${word}-oauth2-token-command`]: { type: 'string', group, describe: 'sign in with OAuth2 (XOAUTH2 or OAUTHBEARER): run this shell command for an access token, again whenever the server refuses one' },
    [`${word}-oauth2`]: { type: 'string', group, describe: "sign in with OAuth2 using what 'mailferry login PROFILE' saved: PROFILE (for the URL's user) or PROFILE:LOGIN" },
    [`${word}-authzid`]: { type: 'string', group, describe: "open this user's mailbox, logging in as the URL's user (an administrator) with the administrator's password (SASL PLAIN authorization identity)" },
  };
}

/** For a source with Gmail's labels (X-GM-EXT-1); ignored for any other server. */
export const gmailLabelsOption: Record<string, Options> = {
  'gmail-labels': {
    type: 'string',
    choices: GMAIL_LABEL_OPTIONS,
    default: 'auto',
    group: 'Source:',
    describe:
      "a Gmail source's labels: folders (a copy in each label's folder, downloaded once; unlabelled mail to Archive), keywords (one copy in INBOX, Sent, Drafts or Archive, labels as keywords), labels (All Mail once with its labels, to Gmail); auto: labels toward Gmail, else folders",
  },
};

/** The same option for the commands that only read (verify, folders): how the labels are seen, not copied. */
export const gmailLabelsViewOption: Record<string, Options> = {
  'gmail-labels': {
    ...gmailLabelsOption['gmail-labels'],
    describe:
      "how a Gmail source's labels are seen: folders (each label a folder of its messages; unlabelled mail in Archive), keywords (each message once, in INBOX, Sent, Drafts or Archive, its labels as keywords), labels (All Mail, each message with its labels); auto: labels toward Gmail, else folders",
  },
};

export const profileFileOption: Record<string, Options> = {
  'profile-file': { type: 'string', group: 'Profiles:', describe: 'JSON file of provider profiles that override or extend the built-in ones (see docs/profiles.md)' },
};

export const connectionOptions: Record<string, Options> = {
  connections: { type: 'number', default: 4, group: 'Connections:', describe: 'connections per account; folders are copied this many at a time' },
  'insecure-tls': { type: 'boolean', default: false, group: 'Connections:', describe: 'DANGEROUS: do not verify TLS certificates' },
  'allow-plaintext': { type: 'boolean', default: false, group: 'Connections:', describe: 'allow an unencrypted login to a non-loopback server that offers no STARTTLS' },
  timeout: { type: 'number', default: 120, group: 'Connections:', describe: 'seconds without a byte, while a command is under way, after which a connection counts as dead (and is retried); idle connections are kept alive' },
};

export const selectionOptions: Record<string, Options> = {
  folder: { type: 'string', array: true, group: 'Folders:', describe: 'copy only this source folder (repeatable)' },
  exclude: { type: 'string', array: true, group: 'Folders:', describe: 'leave out source folders matching this regular expression (repeatable)' },
  map: {
    type: 'string', array: true, group: 'Folders:',
    describe: "put source folder SRC into destination folder DEST, written 'SRC=DEST' with / between levels (repeatable); a SRC beginning with ^ is a regular expression, e.g. '^Work/(.*)$=Old/$1'",
  },
};

/** A folder tree rather than the account's own layout: restore's and migrate's `--recursive` and `--into`. */
export const treeOptions: Record<string, Options> = {
  recursive: { type: 'boolean', default: false, group: 'Folders:', describe: 'with --folder: also take the subfolders of each folder named' },
  into: { type: 'string', group: 'Folders:', describe: "put every folder under this destination folder, keeping its own path below it, with / between levels, e.g. 'Imported'" },
};

export const filterOptions: Record<string, Options> = {
  since: { type: 'string', group: 'Messages:', describe: 'only messages received on or after this date (YYYY-MM-DD or ISO 8601), or within this age: 30d, 6w, 3m, 1y (UTC days before the run)' },
  before: { type: 'string', group: 'Messages:', describe: 'only messages received before this date, or older than this age (30d, 6w, 3m, 1y)' },
  'max-size': { type: 'number', group: 'Messages:', describe: 'leave out messages larger than this many bytes' },
  'min-size': { type: 'number', group: 'Messages:', describe: 'leave out messages smaller than this many bytes' },
};

/** Server-side selection of the commands that read an IMAP account (migrate, backup). */
export const searchOptions: Record<string, Options> = {
  search: { type: 'string', group: 'Messages:', describe: "only messages the source server finds with these IMAP SEARCH criteria (RFC 3501), in each folder, e.g. 'FROM alice@example.com SINCE 1-Jan-2023 NOT DELETED'" },
  'gmail-search': { type: 'string', group: 'Messages:', describe: "Gmail source only: only messages Gmail finds with this query (X-GM-RAW), e.g. 'from:alice has:attachment older_than:1y'" },
};

/** For the commands that run a job, and `run` (docs/config.md: where nightly logs go). */
export const logFileOption: Record<string, Options> = {
  'log-file': { type: 'string', group: 'Run:', describe: "also write the run's log, its events and its summary to FILE, one JSON object per line (appended; created 0600; no secrets)" },
};

export const runOptions: Record<string, Options> = {
  state: { type: 'string', group: 'Run:', describe: 'checkpoint file (default: $XDG_STATE_HOME/mailferry/<pair>.sqlite)' },
  'dry-run': { type: 'boolean', default: false, group: 'Run:', describe: 'print the folder mapping and what the run would copy and skip; write nothing' },
  json: { type: 'boolean', default: false, group: 'Run:', describe: 'print one JSON summary on stdout at the end' },
  quiet: { type: 'boolean', default: false, alias: 'q', group: 'Run:', describe: 'silent on a good run: no progress and no summary, only warnings and errors (a dry run still prints its plan, --json its document)' },
  debug: { type: 'boolean', default: false, group: 'Run:', describe: 'log the IMAP conversation (passwords redacted) and show stack traces' },
  ...logFileOption,
};

/**
 * Options for tests only, hidden from --help, the completions, the man page and the library API
 * (none of which read this table): a first run's ETA line after this many ms instead of a minute.
 */
export const testOnlyOptions: Record<string, Options> = {
  'eta-after-ms': { type: 'number', hidden: true },
};

/** For the commands that write to an account with a checkpoint of their own choosing (migrate, restore). */
export const concurrencyOption: Record<string, Options> = {
  'allow-concurrent': { type: 'boolean', default: false, group: 'Run:', describe: 'run even while another run writes to the same destination account (with another --state): both may copy the same messages' },
};

export function parseSelection(argv: { folder?: string[]; exclude?: string[]; map?: string[] }): FolderSelection {
  return {
    include: argv.folder ?? [],
    exclude: (argv.exclude ?? []).map((re) => {
      try {
        return new RegExp(re);
      } catch {
        throw new UsageError(`--exclude ${re}: not a valid regular expression`);
      }
    }),
    map: (argv.map ?? []).filter((m) => !isRegexMap(m)).map((m) => {
      const eq = m.indexOf('=');
      if (eq <= 0 || eq === m.length - 1) throw new UsageError(`--map ${m}: expected SRC=DEST`);
      return { from: m.slice(0, eq), to: m.slice(eq + 1) };
    }),
    regexMap: (argv.map ?? []).filter(isRegexMap).map(parseRegexMap),
  };
}

/** --folder/--exclude/--map plus `treeOptions`' --recursive and --into. */
export function parseTreeSelection(argv: { folder?: string[]; exclude?: string[]; map?: string[]; recursive: boolean; into?: string }): FolderSelection {
  const selection = parseSelection(argv);
  if (argv.recursive && selection.include.length === 0) throw new UsageError('--recursive needs --folder: it adds the subfolders of the folders named');
  if (argv.into === undefined) return { ...selection, recursive: argv.recursive };
  const into = argv.into.split('/').filter((level) => level.length > 0);
  if (into.length === 0) throw new UsageError(`--into ${JSON.stringify(argv.into)}: give a folder name, e.g. 'Restored'`);
  if (selection.map.length + (selection.regexMap?.length ?? 0) > 0) throw new UsageError('--into and --map exclude each other: --into keeps every folder\'s own path under the prefix');
  return { ...selection, recursive: argv.recursive, into };
}

export function parseFilter(
  argv: { since?: string; before?: string; 'max-size'?: number; 'min-size'?: number; search?: string; 'gmail-search'?: string },
  runStart: Date = new Date(),
): MessageFilter {
  const search = runCriteria(argv.search, argv['gmail-search']);
  return {
    ...(search !== undefined ? { search } : {}),
    since: parseDateOption(argv.since, '--since', runStart),
    before: parseDateOption(argv.before, '--before', runStart),
    maxSize: byteCount(argv['max-size'], 'max-size'),
    minSize: byteCount(argv['min-size'], 'min-size'),
  };
}

function byteCount(value: number | undefined, option: string): number | undefined {
  if (value !== undefined && (!Number.isFinite(value) || value < 0)) throw new UsageError(`--${option}: not a byte count: ${value}`);
  return value;
}

export function positiveInt(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${option}: expected a whole number of at least 1, got ${value}`);
  return value;
}

/** `--errors-max N` of migrate and restore: none, or a whole number of at least 1. */
export function parseErrorsMax(argv: { 'errors-max'?: number }): number | undefined {
  return argv['errors-max'] === undefined ? undefined : positiveInt(argv['errors-max'], 'errors-max');
}

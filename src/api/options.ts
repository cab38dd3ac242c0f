/**
 * The library API's option objects: the command line's options, camel-cased, with the same
 * defaults and checks (docs/migrate.md and the other command guides describe each one). What the
 * command line prints (--json, --quiet) has no option here: the API returns and emits instead.
 */

import type { GmailLabelOption } from '../stores/gmail/gmail-labels.js';
import type { MaildirLayout } from '../stores/local/folder-path.js';
import type { BackupFormat } from '../stores/local/manifest.js';

/** What every call takes besides the command's own options. */
export interface CallOptions {
  /** Receives each diagnostic line the command would write to stderr (secrets redacted); default: none. */
  log?: (line: string) => void;
  /** Also log the IMAP conversation through `log` (passwords redacted). Default false. */
  debug?: boolean;
  /** Stops the run: it rejects with InterruptedError; a copying job resumes when called again. */
  signal?: AbortSignal;
}

/**
 * The source account. Its password is, in this order: `fromPassword`; the environment variable
 * `fromPasswordEnv` (default MAILFERRY_FROM_PASSWORD, read and left in place); `fromPasswordFile`
 * (mode 0600); the output of `fromPasswordCommand`. Or it signs in with OAuth2.
 */
export interface SourceAccountOptions {
  /** imaps://user@host[:port] or imap://user@host[:port] (STARTTLS). */
  from: string;
  fromPassword?: string;
  fromPasswordEnv?: string;
  fromPasswordFile?: string;
  fromPasswordCommand?: string;
  /** Also trust this CA certificate (PEM file). */
  fromCa?: string;
  /** Provider profile; default: detected from the host, else generic. */
  fromProfile?: string;
  fromOauth2TokenCommand?: string;
  /** A sign-in saved by `mailferry login`: PROFILE or PROFILE:LOGIN. */
  fromOauth2?: string;
  fromAuthzid?: string;
  /** A Gmail source's labels; default 'auto'. */
  gmailLabels?: GmailLabelOption;
}

/** The destination account; its password as for the source, default variable MAILFERRY_TO_PASSWORD. */
export interface DestinationAccountOptions {
  to: string;
  toPassword?: string;
  toPasswordEnv?: string;
  toPasswordFile?: string;
  toPasswordCommand?: string;
  toCa?: string;
  toProfile?: string;
  toOauth2TokenCommand?: string;
  toOauth2?: string;
  toAuthzid?: string;
}

export interface FolderOptions {
  /** Only these source folders. */
  folder?: string[];
  /** Leave out source folders matching these regular expressions. */
  exclude?: string[];
  /** 'SRC=DEST' pairs, with / between levels. */
  map?: string[];
}

export interface MessageOptions {
  /** Only messages received on or after this date (YYYY-MM-DD or ISO 8601). */
  since?: string;
  before?: string;
  maxSize?: number;
  /** Leave out messages smaller than this many bytes. */
  minSize?: number;
}

/** Server-side selection (migrate, backup): see `--search` and `--gmail-search`. */
export interface SearchOptions {
  /** IMAP SEARCH criteria (RFC 3501), e.g. 'FROM alice@example.com SINCE 1-Jan-2023'. */
  search?: string;
  /** Gmail source only: a Gmail query (X-GM-RAW), e.g. 'from:alice has:attachment'. */
  gmailSearch?: string;
}

export interface ConnectionOptions {
  /** Connections per account; default 4. */
  connections?: number;
  /** DANGEROUS: do not verify TLS certificates. Default false. */
  insecureTls?: boolean;
  allowPlaintext?: boolean;
  /** Seconds of silence after which a connection counts as dead; default 120. */
  timeout?: number;
  /** JSON file of provider profiles that override or extend the built-in ones. */
  profileFile?: string;
}

export interface RateOptions {
  maxBytesPerSecond?: number;
  maxMessagesPerSecond?: number;
}

export interface RunOptions {
  /** Write nothing: the result lists the folder mapping and counts. Default false. */
  dryRun?: boolean;
}

/** `--folder NAME --recursive` and `--into PREFIX`, as migrate and restore take them. */
export interface TreeOptions {
  /** With `folder`: also their subfolders. Default false. */
  recursive?: boolean;
  /** Put every folder under this one (levels separated by /). */
  into?: string;
}

export interface MigrateOptions
  extends CallOptions, SourceAccountOptions, DestinationAccountOptions, FolderOptions, TreeOptions, MessageOptions, SearchOptions, ConnectionOptions, RateOptions, RunOptions {
  /** Carry flag changes of copied messages on reruns; default true. */
  syncFlags?: boolean;
  oversizeDir?: string;
  /** Compare both accounts after the transfer; differences make exitCode 1. Default false. */
  verify?: boolean;
  /** Remove at the destination the messages this checkpoint copied that are gone from the source (cutover). Default false. */
  propagateDeletes?: boolean;
  /** Stop once this many messages have failed: the call rejects with ErrorsMaxError; a new call retries them and resumes. */
  errorsMax?: number;
  dailyLimitDown?: number;
  dailyLimitUp?: number;
  /** Checkpoint file; default $XDG_STATE_HOME/mailferry/<pair>.sqlite. */
  state?: string;
  /** Run even while another run writes to the same destination account with another checkpoint. Default false. */
  allowConcurrent?: boolean;
}

export interface BackupOptions extends CallOptions, SourceAccountOptions, FolderOptions, MessageOptions, SearchOptions, ConnectionOptions, RateOptions, RunOptions {
  /** The backup directory. */
  to: string;
  format?: BackupFormat;
  layout?: MaildirLayout;
  /** Pack the backup into this .tar.gz or .zip after the run, {date} becoming YYYY-MM-DD. */
  archive?: string;
  keep?: number;
  /** Remove from the backup what was deleted on the server. Default false. */
  mirror?: boolean;
  dailyLimitDown?: number;
}

export interface RestoreOptions extends CallOptions, DestinationAccountOptions, FolderOptions, TreeOptions, MessageOptions, ConnectionOptions, RateOptions, RunOptions {
  /** A backup directory, a .tar.gz/.tgz/.zip of one, a Maildir tree, an mbox file or a directory of them. */
  from: string;
  verify?: boolean;
  errorsMax?: number;
  dailyLimitUp?: number;
  state?: string;
  /** As for migrate. */
  allowConcurrent?: boolean;
}

/** `from` and `to` may also be paths (a backup, an archive, Maildir, mbox). */
export interface VerifyOptions extends CallOptions, SourceAccountOptions, DestinationAccountOptions, FolderOptions, ConnectionOptions {
  /** Compare by Message-ID, size, date and flags without reading bodies. Default false. */
  quick?: boolean;
}

/** With `to`: where each folder would go, with that folder's counts. */
export interface ListFoldersOptions extends CallOptions, SourceAccountOptions, Partial<DestinationAccountOptions>, FolderOptions, ConnectionOptions {}

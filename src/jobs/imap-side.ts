import { readFile } from 'node:fs/promises';
import { resolveCredentials, type SignInSpec } from '../auth/imap-credentials.js';
import { endpointLabel, parseAccountUrl } from '../config/account-url.js';
import { ProfileCatalog } from '../config/profile-catalog.js';
import type { Profile } from '../config/profile-schema.js';
import { UsageError } from '../errors/errors.js';
import type { StderrLogger } from '../reporting/logger.js';
import { ImapStore } from '../stores/imap/imap-store.js';
import type { Side } from '../domain/types.js';
import type { Store } from '../stores/store.js';
import { GmailLabelView } from '../stores/gmail/gmail-label-view.js';
import type { GmailLabelOption } from '../stores/gmail/gmail-labels.js';

/** How the user described one IMAP account on the command line. */
export interface ImapSideSpec extends SignInSpec {
  url: string;
  caFile?: string;
  /** The provider profile; default: the built-in one detected from the URL's host. */
  profile?: Profile;
  /** A source's `--gmail-labels` (only a server with X-GM-EXT-1 is affected); default auto. */
  gmailLabels?: GmailLabelOption;
}

export interface ConnectionPolicy {
  insecureTls: boolean;
  allowPlaintext: boolean;
  connections: number;
  socketTimeoutMs: number;
  debug: boolean;
  prompt?: (question: string) => Promise<string>;
  /** The run's interrupt: the stores drop their connections on it. */
  signal?: AbortSignal;
}

const SIDE_WORD: Record<Side, 'from' | 'to'> = { source: 'from', dest: 'to' };

/**
 * Turns one side's options into a connected-on-demand IMAP store, resolving how it logs in. A
 * source is seen through the Gmail label view, which only acts on a server with labels.
 */
export async function imapStoreFor(side: Side, spec: ImapSideSpec, policy: ConnectionPolicy, logger: StderrLogger): Promise<Store> {
  const store = await plainImapStore(side, spec, policy, logger);
  return side === 'source' ? new GmailLabelView(store, spec.gmailLabels ?? 'auto') : store;
}

/** The account itself, without the label view: for what is about the server (`--check-login`). */
export async function plainImapStore(side: Side, spec: ImapSideSpec, policy: ConnectionPolicy, logger: StderrLogger): Promise<ImapStore> {
  const word = SIDE_WORD[side];
  const option = `--${word}`;
  const endpoint = parseAccountUrl(spec.url, option);
  const credentials = await resolveCredentials(word, spec, endpoint, policy.prompt, logger);
  const profile = spec.profile ?? ProfileCatalog.load().detect(endpoint.host);
  if (policy.insecureTls) logger.warn(`--insecure-tls: the certificate of ${endpoint.host} is NOT checked; anyone on the path can read ${option}'s password and mail`);
  let ca: string | undefined;
  if (spec.caFile) {
    try {
      ca = await readFile(spec.caFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--${word}-ca: cannot read ${spec.caFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  // With an authorization identity the mailbox is the authzid's: it names the account (and its checkpoint).
  const mailbox = credentials.kind === 'password' && credentials.authzid !== undefined ? { ...endpoint, user: credentials.authzid } : endpoint;
  return new ImapStore({
    endpoint,
    label: endpointLabel(mailbox),
    credentials,
    ca,
    insecureTls: policy.insecureTls,
    allowPlaintext: policy.allowPlaintext,
    connections: Math.min(policy.connections, profile.limits.connections ?? Infinity),
    provider: {
      name: profile.name,
      specialUseNames: profile.folders.specialUse,
      maxMessageSize: profile.limits.maxMessageSize ?? undefined,
      dropFlags: profile.flags.drop,
      restoreSeenAfterFetch: profile.quirks.restoreSeenAfterFetch,
      maxBatch: profile.quirks.maxBatch ?? undefined,
    },
    socketTimeoutMs: policy.socketTimeoutMs,
    logger,
    debug: policy.debug,
    signal: policy.signal,
  });
}

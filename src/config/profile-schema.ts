import { z } from 'zod';
import type { SpecialUse } from '../domain/types.js';

/**
 * The one schema every provider profile (profiles/*.json, and a user's --profile-file) is
 * validated against once `extends` is resolved. docs/profiles.md documents each field; keep the
 * two in step. Objects are strict, so a misspelt field is an error rather than silently ignored.
 */

/** Where the facts of a group come from: citations, as docs/profiles.md lists them. */
const source = z.array(z.string().min(1)).min(1);
/** A limit; `null` says "none", which lets an override remove an inherited limit. */
const limit = z.number().int().positive().nullable().optional();
const regex = z.string().refine((text) => {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');
/** A system flag (`\Seen`) or keyword (`$MDNSent`): an IMAP atom (RFC 3501 §9, flag-keyword). */
const flagName = z.string().regex(/^\\?[^\s(){%*"\\\]]+$/, 'not an IMAP flag or keyword');
const hostName = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'not a lowercase host name');
const url = z.url();

const server = z.strictObject({
  /** Absent for site-specific servers (self-hosted Dovecot, Exchange on-premises). */
  host: hostName.optional(),
  port: z.number().int().min(1).max(65535),
  /** implicit: TLS from the first byte (imaps://); starttls: imap:// upgraded with STARTTLS. */
  tls: z.enum(['implicit', 'starttls']),
  source,
});

const oauth2 = z.strictObject({
  /** device: RFC 8628 device authorization grant; loopback: browser redirect to 127.0.0.1 (RFC 8252). */
  flow: z.enum(['device', 'loopback']),
  authorizeUrl: url,
  tokenUrl: url,
  deviceUrl: url.optional(),
  scopes: z.array(z.string().min(1)).min(1),
  /** Replaces `{tenant}` in the URLs (Microsoft identity platform); `mailferry login --tenant` overrides. */
  tenant: z.string().min(1).optional(),
});

const auth = z.strictObject({
  mechanisms: z.array(z.enum(['PLAIN', 'LOGIN', 'XOAUTH2', 'OAUTHBEARER'])).min(1),
  /** How to be allowed in: enable IMAP, app passwords, OAuth app registration. One line per step. */
  signIn: z.array(z.string().min(1)).min(1),
  /** Endpoints for `mailferry login`; present only where mailferry has a built-in sign-in. */
  oauth2: oauth2.optional(),
  source,
});

const limits = z.strictObject({
  /** Simultaneous connections the provider allows one account. */
  connections: limit,
  /** Simultaneous connections to one server host, all accounts together (what `bulk` runs at once honour). */
  connectionsPerHost: limit,
  messagesPerSecond: z.number().positive().nullable().optional(),
  bytesPerSecondDown: limit,
  bytesPerSecondUp: limit,
  dailyBytesDown: limit,
  dailyBytesUp: limit,
  /** Largest message the provider accepts (bytes); applies when this is the destination. */
  maxMessageSize: limit,
  source,
});

const specialUseNames = z.array(z.string().min(1)).min(1).optional();

/** Keys of `folders.specialUse`, and the RFC 6154 attribute each stands for. */
export const SPECIAL_USE_KEYS = {
  sent: '\\Sent',
  drafts: '\\Drafts',
  trash: '\\Trash',
  junk: '\\Junk',
  archive: '\\Archive',
  all: '\\All',
  flagged: '\\Flagged',
} as const satisfies Record<string, SpecialUse>;

const folders = z.strictObject({
  /** Source folders to leave out, as regular expressions on the name ('/' between levels). */
  exclude: z.array(regex),
  /**
   * Folder names that stand for a special use when the server marks no folder with a SPECIAL-USE
   * attribute. Matched case-insensitively against the whole name ('/' between levels, without the
   * namespace prefix); earlier names win.
   */
  specialUse: z.strictObject({
    sent: specialUseNames,
    drafts: specialUseNames,
    trash: specialUseNames,
    junk: specialUseNames,
    archive: specialUseNames,
    all: specialUseNames,
    flagged: specialUseNames,
  }),
  source,
});

const flags = z.strictObject({
  /** Flags and keywords never set at this provider when it is the destination. */
  drop: z.array(flagName),
  source,
});

const quirks = z.strictObject({
  /** The server sets \Seen when a message is fetched, even with BODY.PEEK (iCloud). */
  restoreSeenAfterFetch: z.boolean(),
  /** Most messages one FETCH/STORE may name (RFC 9738 MESSAGELIMIT). */
  maxBatch: limit,
  /** Top-level names the server refuses to create; such a source folder is copied under another name. */
  reservedFolderNames: z.array(z.string().min(1)),
  source,
});

export const profileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and -'),
  title: z.string().min(1),
  /** Host names that select this profile when no --from-profile/--to-profile is given. */
  hosts: z.array(hostName),
  server,
  auth,
  limits,
  folders,
  flags,
  quirks,
});

export type Profile = z.infer<typeof profileSchema>;
export type SpecialUseNames = Profile['folders']['specialUse'];

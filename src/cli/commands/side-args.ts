import type { AccessTokenSource } from '../../auth/access-token.js';
import { applyProfiles, profileForSide, type ProfiledRun } from '../../config/profile-apply.js';
import { ProfileCatalog } from '../../config/profile-catalog.js';
import type { Profile } from '../../config/profile-schema.js';
import type { Sides } from '../../domain/types.js';
import type { FolderSelection } from '../../engine/folder-map.js';
import type { TrafficLimits } from '../../engine/traffic.js';
import type { ImapSideSpec } from '../../jobs/imap-side.js';
import type { GmailLabelOption } from '../../stores/gmail/gmail-labels.js';

/** The per-side options every two-sided command takes (see `accountOptions` and `signInOptions`). */
export interface SideArgs {
  from: string;
  to: string;
  'from-password-file'?: string;
  'from-password-command'?: string;
  'from-ca'?: string;
  'from-profile'?: string;
  'from-oauth2-token-command'?: string;
  'from-oauth2'?: string;
  'from-authzid'?: string;
  'to-password-file'?: string;
  'to-password-command'?: string;
  'to-ca'?: string;
  'to-profile'?: string;
  'to-oauth2-token-command'?: string;
  'to-oauth2'?: string;
  'to-authzid'?: string;
  'profile-file'?: string;
  'gmail-labels'?: GmailLabelOption;
  'insecure-tls': boolean;
  'allow-plaintext': boolean;
  /** Passwords given as values: only the library API does (the command line never takes one). */
  passwords?: Partial<Record<'from' | 'to', string>>;
  /** OAuth2 access tokens given as values (bulk's app credentials): never an option. */
  tokens?: Partial<Record<'from' | 'to', AccessTokenSource>>;
}

/** The `--from*` half of SideArgs: what a command with a local destination (backup) takes. */
export type SourceArgs = Omit<SideArgs, 'to' | `to-${'password-file' | 'password-command' | 'ca' | 'profile' | 'oauth2-token-command' | 'oauth2' | 'authzid'}`>;

function sourceSpec(argv: SourceArgs, catalog: ProfileCatalog): ImapSideSpec & { profile: Profile } {
  return { ...sideSpec({ ...argv, to: '' }, 'from', catalog), gmailLabels: argv['gmail-labels'] };
}

function sideSpec(argv: SideArgs, word: 'from' | 'to', catalog: ProfileCatalog): ImapSideSpec & { profile: Profile } {
  return {
    url: argv[word],
    password: argv.passwords?.[word],
    tokens: argv.tokens?.[word],
    passwordFile: argv[`${word}-password-file`],
    passwordCommand: argv[`${word}-password-command`],
    caFile: argv[`${word}-ca`],
    oauth2TokenCommand: argv[`${word}-oauth2-token-command`],
    oauth2: argv[`${word}-oauth2`],
    authzid: argv[`${word}-authzid`],
    profile: profileForSide(catalog, argv[`${word}-profile`], argv[word], `--${word}-profile`),
  };
}

/**
 * Both sides with their provider profiles (named, or detected from the host), and the run's
 * options as the profiles adjust them. Each adjustment is told through `notice`.
 */
export function profiledSides(
  argv: SideArgs,
  requested: { connections: number; selection: FolderSelection; traffic?: TrafficLimits },
  notice: (line: string) => void,
): { specs: Sides<ImapSideSpec>; run: ProfiledRun } {
  const catalog = ProfileCatalog.load(argv['profile-file']);
  const specs = { source: sourceSpec(argv, catalog), dest: sideSpec(argv, 'to', catalog) };
  const run = applyProfiles({ source: specs.source.profile, dest: specs.dest.profile }, requested);
  for (const line of run.notices) notice(line);
  return { specs, run };
}

/**
 * The source of a command whose destination is a local directory (backup): its profile applies
 * as it does for migrate, against the generic profile for the directory.
 */
export function profiledSource(
  argv: SourceArgs,
  requested: { connections: number; selection: FolderSelection; traffic?: TrafficLimits },
  notice: (line: string) => void,
): { spec: ImapSideSpec; run: ProfiledRun } {
  const catalog = ProfileCatalog.load(argv['profile-file']);
  const spec = sourceSpec(argv, catalog);
  const run = applyProfiles({ source: spec.profile, dest: catalog.get('generic', 'generic') }, requested);
  for (const line of run.notices) notice(line);
  return { spec, run };
}

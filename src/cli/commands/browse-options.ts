import type { Options } from 'yargs';
import { UsageError } from '../../errors/errors.js';
import type { ImapSideSpec } from '../../jobs/imap-side.js';
import type { Store } from '../../stores/store.js';
import { ProfileCatalog } from '../../config/profile-catalog.js';
import { profileForSide } from '../../config/profile-apply.js';
import type { CliContext } from '../context.js';
import { connectionPolicy } from '../connection-policy.js';
import { accountOptions, connectionOptions, profileFileOption, signInOptions } from '../options.js';
import type { SourceArgs } from './side-args.js';

const { from: _from, ...sourceSignIn } = accountOptions('from', 'source');
// One connection is all browsing uses.
const { connections: _connections, ...connectionsLess } = connectionOptions;

/** The SOURCE positional of `ls`, `show` and `export`. */
export const browseSourcePositional = { type: 'string', describe: 'a backup directory, .tar.gz or .zip, a Maildir tree, an mbox, or an account URL' } as const;

/** What `ls`, `show` and `export` take besides their own: how an account SOURCE signs in and connects. */
export const browseSourceOptions: Record<string, Options> = {
  ...sourceSignIn,
  ...signInOptions('from'),
  ...profileFileOption,
  ...connectionsLess,
  debug: { type: 'boolean', default: false, group: 'Run:', describe: 'log the IMAP conversation (passwords redacted)' },
};

/** SOURCE with the `--from*` options of a two-sided command (SourceArgs), less what only copying takes. */
export type BrowseArgs = Omit<SourceArgs, 'from' | 'gmail-labels' | 'passwords'> & {
  source: string;
  folder?: string;
  timeout: number;
  debug: boolean;
};

/** SOURCE opened as these options describe it (an account signs in as `--from` would). */
export async function browseSource(argv: BrowseArgs, ctx: CliContext, folder?: string): Promise<Store> {
  ctx.debug = argv.debug;
  const { openBrowseSource } = await import('../../jobs/browse/browse-source.js');
  const catalog = ProfileCatalog.load(argv['profile-file']);
  const spec: ImapSideSpec = {
    url: argv.source,
    passwordFile: argv['from-password-file'],
    passwordCommand: argv['from-password-command'],
    caFile: argv['from-ca'],
    oauth2TokenCommand: argv['from-oauth2-token-command'],
    oauth2: argv['from-oauth2'],
    authzid: argv['from-authzid'],
    profile: profileForSide(catalog, argv['from-profile'], argv.source, '--from-profile'),
  };
  return openBrowseSource(spec, connectionPolicy(argv, 1, ctx), ctx.logger, folder);
}

/** A UID as typed: a positive whole number. */
export function uidArg(value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`not a UID: ${String(value)} (a positive whole number)`);
  return n;
}

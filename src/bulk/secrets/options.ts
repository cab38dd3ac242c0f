import type { Options } from 'yargs';

const GROUP = 'Secrets:';

/** One side's per-account secret sources: at most one of them per side. */
function sideOptions(word: 'from' | 'to', side: string): Record<string, Options> {
  return {
    [`${word}-password-command`]: {
      type: 'string',
      group: GROUP,
      describe: `each ${side} account's password: the standard output of this command, {user}, {host} and {id} filled in from its row as separate arguments (no shell runs), e.g. 'pass show mail/{user}'`,
    },
    [`${word}-password-dir`]: {
      type: 'string',
      group: GROUP,
      describe: `each ${side} account's password: the file named as its login in this directory (mode 0600; '/' and '%' percent-encoded; the directory not writable by others)`,
    },
    [`${word}-google-service-account`]: {
      type: 'string',
      group: GROUP,
      describe: `sign in to every ${side} Google Workspace mailbox with OAuth2 through this service account's JSON key (0600) with domain-wide delegation (scope https://mail.google.com/)`,
    },
    [`${word}-ms-tenant`]: { type: 'string', group: GROUP, describe: `sign in to every ${side} Microsoft 365 mailbox with an app's client credentials (IMAP.AccessAsApp): the tenant ID or domain` },
    [`${word}-ms-client-id`]: { type: 'string', group: GROUP, describe: `the app (client) ID, with --${word}-ms-tenant` },
    [`${word}-ms-client-secret-file`]: { type: 'string', group: GROUP, describe: `a file (0600) holding the app's client secret, with --${word}-ms-tenant` },
    [`${word}-ms-client-certificate`]: {
      type: 'string',
      group: GROUP,
      describe: `instead of a secret: a PEM file (0600) holding the certificate uploaded to the app and its private key, with --${word}-ms-tenant`,
    },
    [`${word}-ms-authority`]: {
      type: 'string',
      group: GROUP,
      describe: "for tests: the identity platform's URL instead of https://login.microsoftonline.com (the token is asked of URL/TENANT/oauth2/v2.0/token)",
    },
  };
}

/** How `bulk` finds each account's secret on the machine that runs it; the list never holds one. */
export const bulkSecretOptions: Record<string, Options> = {
  ...sideOptions('from', 'source'),
  ...sideOptions('to', 'destination'),
};

type SideKeys<W extends string> = `${W}-${'password-command' | 'password-dir' | 'google-service-account' | 'ms-tenant' | 'ms-client-id' | 'ms-client-secret-file' | 'ms-client-certificate' | 'ms-authority'}`;

/** The values of bulkSecretOptions as yargs parses them. */
export type BulkSecretArgs = Partial<Record<SideKeys<'from' | 'to'>, string>>;

/** Whether the command line gives `word`'s accounts a per-account secret source. */
export function hasSecretSource(argv: Record<string, unknown>, word: 'from' | 'to'): boolean {
  return Object.keys(sideOptions(word, '')).some((name) => argv[name] !== undefined);
}

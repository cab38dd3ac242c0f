import type { Argv, CommandModule } from 'yargs';
import { ProfileCatalog } from '../../config/profile-catalog.js';
import { UsageError } from '../../errors/errors.js';
import type { CliContext } from '../context.js';
import { profileFileOption } from '../options.js';

export const loginOptions = {
  user: { type: 'string', demandOption: true, group: 'Sign-in:', describe: "the login to sign in as, written as in the account URL's user part (decoded), e.g. alice@gmail.com" },
  'client-id': { type: 'string', demandOption: true, group: 'Sign-in:', describe: 'the OAuth client (application) ID you registered (see docs/profiles.md)' },
  'client-secret': { type: 'string', group: 'Sign-in:', describe: "the client's secret, where it has one (Google desktop clients); else $MAILFERRY_CLIENT_SECRET" },
  flow: { type: 'string', choices: ['device', 'loopback'], group: 'Sign-in:', describe: "device: open a URL anywhere and type a code; loopback: a browser on this machine comes back to 127.0.0.1 (default: the profile's)" },
  tenant: { type: 'string', group: 'Sign-in:', describe: 'Microsoft: common (default), organizations, consumers, or your tenant ID or domain' },
  'authorize-url': { type: 'string', group: 'Endpoints:', describe: "use this authorization endpoint instead of the profile's" },
  'token-url': { type: 'string', group: 'Endpoints:', describe: "use this token endpoint instead of the profile's (saved for later refreshes)" },
  'device-url': { type: 'string', group: 'Endpoints:', describe: "use this device authorization endpoint instead of the profile's" },
  ...profileFileOption,
} as const;

interface LoginArgs {
  profile: string;
  user: string;
  'client-id': string;
  'client-secret'?: string;
  flow?: 'device' | 'loopback';
  tenant?: string;
  'authorize-url'?: string;
  'token-url'?: string;
  'device-url'?: string;
  'profile-file'?: string;
}

/** `mailferry login PROFILE`: an interactive OAuth2 sign-in whose refresh token later runs use. */
export function loginCommand(ctx: CliContext): CommandModule {
  return {
    command: 'login <profile>',
    describe: 'sign in to Gmail, Google Workspace or Microsoft 365 with OAuth2 once; later runs use --from-oauth2/--to-oauth2 PROFILE',
    builder: (y: Argv) =>
      y
        .positional('profile', { type: 'string', describe: 'a profile with a built-in sign-in: gmail, google-workspace, microsoft365' })
        .options(loginOptions)
        .example('$0 login microsoft365 --user alice@contoso.com --client-id 00000000-0000-0000-0000-000000000000', 'device code: open the URL shown, enter the code')
        .example('$0 login gmail --user alice@gmail.com --client-id ID.apps.googleusercontent.com --client-secret SECRET', 'browser sign-in on this machine'),
    handler: async (raw) => {
      const { login } = await import('../../auth/login.js');
      const argv = raw as unknown as LoginArgs;
      const catalog = ProfileCatalog.load(argv['profile-file']);
      const profile = catalog.get(argv.profile, 'login');
      if (!profile.auth.oauth2) {
        const withSignIn = catalog.all().filter((p) => p.auth.oauth2).map((p) => p.name);
        throw new UsageError(`login ${profile.name}: no built-in OAuth2 sign-in for this provider (there is one for ${withSignIn.join(', ')}); see mailferry profiles show ${profile.name}`);
      }
      const clientSecret = argv['client-secret'] ?? (process.env.MAILFERRY_CLIENT_SECRET || undefined);
      if (clientSecret) ctx.logger.addSecret(clientSecret);
      const path = await login({
        profile,
        user: argv.user,
        clientId: argv['client-id'],
        clientSecret,
        flow: argv.flow,
        tenant: argv.tenant,
        endpoints: { authorizeUrl: argv['authorize-url'], tokenUrl: argv['token-url'], deviceUrl: argv['device-url'] },
        tell: (line) => ctx.logger.info(line),
        signal: ctx.signal,
      });
      ctx.out(`Signed in; the refresh token for ${argv.user} is saved in ${path} (mode 0600). Use --from-oauth2 ${profile.name} or --to-oauth2 ${profile.name}.`);
    },
  };
}

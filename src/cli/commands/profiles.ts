import type { Argv, CommandModule } from 'yargs';
import { ProfileCatalog } from '../../config/profile-catalog.js';
import type { Profile } from '../../config/profile-schema.js';
import type { CliContext } from '../context.js';
import { profileFileOption } from '../options.js';

export const profilesOptions = {
  ...profileFileOption,
  json: { type: 'boolean', default: false, group: 'Run:', describe: 'print the profiles as JSON' },
} as const;

interface ProfilesArgs {
  'profile-file'?: string;
  json: boolean;
  name?: string;
}

/** `mailferry profiles` lists the provider profiles; `mailferry profiles show NAME` prints one whole. */
export function profilesCommand(ctx: CliContext): CommandModule {
  return {
    command: 'profiles',
    describe: 'list the provider profiles (hosts, sign-in, limits, folder names); profiles show NAME prints one',
    builder: (y: Argv) =>
      y
        .options(profilesOptions)
        .command({
          command: 'show <name>',
          describe: 'print one profile as JSON, with --profile-file applied',
          builder: (s: Argv) => s.positional('name', { type: 'string', describe: 'profile name, e.g. gmail' }),
          handler: (raw) => {
            const argv = raw as unknown as ProfilesArgs;
            const profile = ProfileCatalog.load(argv['profile-file']).get(argv.name!, 'profiles show');
            ctx.out(JSON.stringify(profile, null, 2));
          },
        })
        .example('$0 profiles', 'which providers mailferry knows')
        .example('$0 profiles show microsoft365', 'how to sign in, limits, folder names'),
    handler: (raw) => {
      const argv = raw as unknown as ProfilesArgs;
      const profiles = ProfileCatalog.load(argv['profile-file']).all().sort((a, b) => a.name.localeCompare(b.name));
      ctx.out(argv.json ? JSON.stringify(profiles, null, 2) : profilesText(profiles));
    },
  };
}

function profilesText(profiles: Profile[]): string {
  const rows = [['profile', 'detected from', 'sign-in', 'connections', 'largest message', 'title']];
  for (const p of profiles) {
    const hosts = p.hosts.length === 0 ? '-' : p.hosts.length === 1 ? p.hosts[0]! : `${p.hosts[0]} +${p.hosts.length - 1}`;
    const signIn = p.auth.mechanisms.join(' ') + (p.auth.oauth2 ? ' (mailferry login)' : '');
    const size = p.limits.maxMessageSize != null ? `${(p.limits.maxMessageSize / 1e6).toFixed(1)} MB` : '-';
    rows.push([p.name, hosts, signIn, p.limits.connections != null ? String(p.limits.connections) : '-', size, p.title]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  lines.push('', 'mailferry profiles show NAME prints one, with its sign-in steps and sources; see docs/profiles.md');
  return lines.join('\n');
}

import { profileForSide } from '../config/profile-apply.js';
import type { ProfileCatalog } from '../config/profile-catalog.js';
import type { BulkAccount, BulkCommand } from './bulk-account.js';
import type { HostClaim } from './host-gate.js';

/**
 * What an account takes of each server while it runs: its connections (--connections, lowered to
 * the profiles' per-account cap as the single run does) on the source host and, for migrate, the
 * destination host, each with that host's profile's connectionsPerHost cap, if it has one.
 */
export function hostClaims(command: BulkCommand, campaign: { connections: number; 'from-profile'?: string; 'to-profile'?: string }, catalog: ProfileCatalog): (account: BulkAccount) => HostClaim[] {
  return (account) => {
    const sides = [{ url: account.from, profile: (account.options['from-profile'] as string | undefined) ?? campaign['from-profile'], option: '--from-profile' }];
    if (command === 'migrate') sides.push({ url: account.to, profile: campaign['to-profile'], option: '--to-profile' });
    const profiles = sides.map((s) => profileForSide(catalog, s.profile, s.url, s.option));
    const connections = Math.min(campaign.connections, ...profiles.map((p) => p.limits.connections ?? Infinity));
    return sides.map((s, i) => {
      const cap = profiles[i]!.limits.connectionsPerHost;
      return { host: new URL(s.url).hostname, connections, ...(cap != null ? { connectionCap: cap } : {}) };
    });
  };
}

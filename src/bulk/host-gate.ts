/** What one account takes of a host while it runs. */
export interface HostClaim {
  host: string;
  connections: number;
  /** The most connections all accounts together may hold to this host (a profile's connectionsPerHost), if any. */
  connectionCap?: number;
}

/**
 * The per-host caps: at most `maxAccounts` accounts at once against one host (--max-per-host),
 * and no more connections to a host than its cap. An account whose own connections exceed a cap
 * still runs, alone on that host, rather than never.
 */
export class HostGate {
  private readonly accounts = new Map<string, number>();
  private readonly connections = new Map<string, number>();

  constructor(private readonly maxAccounts: number | undefined) {}

  fits(claims: readonly HostClaim[]): boolean {
    return unique(claims).every((c) => {
      const accounts = this.accounts.get(c.host) ?? 0;
      if (accounts === 0) return true;
      if (this.maxAccounts !== undefined && accounts >= this.maxAccounts) return false;
      return c.connectionCap === undefined || (this.connections.get(c.host) ?? 0) + c.connections <= c.connectionCap;
    });
  }

  take(claims: readonly HostClaim[]): void {
    for (const c of unique(claims)) {
      this.accounts.set(c.host, (this.accounts.get(c.host) ?? 0) + 1);
      this.connections.set(c.host, (this.connections.get(c.host) ?? 0) + c.connections);
    }
  }

  release(claims: readonly HostClaim[]): void {
    for (const c of unique(claims)) {
      this.accounts.set(c.host, (this.accounts.get(c.host) ?? 0) - 1);
      this.connections.set(c.host, (this.connections.get(c.host) ?? 0) - c.connections);
    }
  }
}

/** Both sides on one host count once for accounts, and with both sides' connections. */
function unique(claims: readonly HostClaim[]): HostClaim[] {
  const byHost = new Map<string, HostClaim>();
  for (const c of claims) {
    const seen = byHost.get(c.host);
    byHost.set(c.host, seen ? { ...seen, connections: seen.connections + c.connections } : c);
  }
  return [...byHost.values()];
}

// The servers and links of one run: a private Dovecot for the ordinary rows and, when a case
// needs it, a second one that offers COMPRESS=DEFLATE (so the other rows measure what they always
// did); each loaded with the corpora its cases use; and a delay proxy per distinct link.
import { readFileSync } from 'node:fs';
import { startDovecot, type DovecotServer } from '../src/sandbox/dovecot-server.js';
import type { BenchCorpus } from './corpora.js';
import { startDelayProxy, type DelayProxy } from './delay-proxy.js';
import { loadCorpora, type Loaded } from './maildir-loader.js';
import { linkLabel, type Case, type Link } from './plan.js';
import { imapRoundTrips, type RoundTrips } from './round-trip.js';
import { PASSWORD, type Endpoint } from './tool.js';

/** The proxy must add the RTT it is set to, give or take timer slack (on its fastest round trip). */
const RTT_TOLERANCE_MS = { below: 1, above: 3 };

/** A delay proxy's check: IMAP round trips straight to Dovecot and through the proxy. */
export interface ProxyCheck {
  link: string;
  rttMs: number;
  tls: boolean;
  rate: number | null;
  direct: RoundTrips;
  proxied: RoundTrips;
}

interface Site {
  server: DovecotServer;
  loaded: Map<BenchCorpus, Loaded>;
}

export class Lab {
  private readonly sites = new Map<boolean, Site>();
  private readonly proxies = new Map<string, DelayProxy>();
  readonly proxyChecks: ProxyCheck[] = [];

  constructor(private readonly log: (line: string) => void) {}

  /** Starts, loads and checks everything the cases need; close() undoes what was done even if this fails. */
  async start(cases: Case[]): Promise<void> {
    for (const compress of [false, true]) {
      const corpora = [...new Set(cases.filter((c) => (c.link.compress ?? false) === compress).map((c) => c.corpus))];
      if (corpora.length === 0) continue;
      const server = await startDovecot({ users: corpora.map((c) => ({ name: c.user, password: PASSWORD })), compress });
      const site: Site = { server, loaded: new Map() };
      this.sites.set(compress, site);
      const which = compress ? 'the Dovecot offering COMPRESS=DEFLATE' : 'Dovecot';
      this.log(`loading ${corpora.map((c) => c.name).join(', ')} into ${which} in ${server.dir}...`);
      site.loaded = await loadCorpora(server, corpora);
      for (const [c, l] of site.loaded) this.log(`loaded ${c.name}: ${l.messages} messages, ${(l.bytes / 1e6).toFixed(1)} MB`);
    }
    for (const c of cases) {
      if (!proxied(c.link) || this.proxies.has(key(c.link))) continue;
      const server = this.server(c.link);
      const proxy = await startDelayProxy({ host: server.host, port: c.link.tls ? server.tlsPort : server.port }, c.link.rttMs, c.link.rate);
      this.proxies.set(key(c.link), proxy);
      await this.check(c.link, proxy, c.corpus.user);
    }
  }

  server(link: Link): DovecotServer {
    return this.site(link).server;
  }

  loaded(link: Link, corpus: BenchCorpus): Loaded {
    const loaded = this.site(link).loaded.get(corpus);
    if (loaded === undefined) throw new Error(`corpus ${corpus.name} is not loaded for ${linkLabel(link)}`);
    return loaded;
  }

  /** The corpora as loaded (each once, whichever server holds it). */
  corpora(): Array<[BenchCorpus, Loaded]> {
    const seen = new Map<BenchCorpus, Loaded>();
    for (const site of this.sites.values()) for (const [c, l] of site.loaded) if (!seen.has(c)) seen.set(c, l);
    return [...seen];
  }

  /** The delay proxy of a link, if it has one: the runner reads its byte counts around each run. */
  proxy(link: Link): DelayProxy | undefined {
    return this.proxies.get(key(link));
  }

  endpoint(link: Link): Endpoint {
    const server = this.server(link);
    const proxy = this.proxy(link);
    const compress = link.compress ?? false;
    if (proxy) return { host: proxy.host, port: proxy.port, tls: link.tls, compress };
    return { host: server.host, port: link.tls ? server.tlsPort : server.port, tls: link.tls, compress };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.proxies.values()].map((p) => p.close()));
    await Promise.allSettled([...this.sites.values()].map((s) => s.server.stop()));
  }

  private site(link: Link): Site {
    const site = this.sites.get(link.compress ?? false);
    if (site === undefined) throw new Error(`no server was started for ${linkLabel(link)}`);
    return site;
  }

  /** Refuses to benchmark through a proxy that does not add the RTT it is set to. */
  private async check(link: Link, proxy: DelayProxy, user: string): Promise<void> {
    const server = this.server(link);
    const ca = link.tls ? readFileSync(server.caFile) : undefined;
    const direct = await imapRoundTrips({ host: server.host, port: link.tls ? server.tlsPort : server.port }, user, PASSWORD, ca);
    const before = { ...proxy.bytes };
    const proxiedTrips = await imapRoundTrips(proxy, user, PASSWORD, ca);
    const added = proxiedTrips.noopMinMs - direct.noopMinMs;
    this.log(
      `delay proxy ${linkLabel(link)}: NOOP ${proxiedTrips.noopMs.toFixed(1)} ms, fastest ${proxiedTrips.noopMinMs.toFixed(1)} (direct ${direct.noopMs.toFixed(1)}); ` +
        `LOGIN ${proxiedTrips.loginMs.toFixed(1)} ms (direct ${direct.loginMs.toFixed(1)}); ${proxy.bytes.up - before.up} bytes up, ${proxy.bytes.down - before.down} down`,
    );
    if (added < proxy.rttMs - RTT_TOLERANCE_MS.below || added > proxy.rttMs + RTT_TOLERANCE_MS.above) {
      throw new Error(`the delay proxy for ${linkLabel(link)} adds ${added.toFixed(1)} ms per round trip, not ${proxy.rttMs}`);
    }
    if (proxy.bytes.up === before.up || proxy.bytes.down === before.down) throw new Error(`the delay proxy for ${linkLabel(link)} counted no bytes`);
    this.proxyChecks.push({ link: linkLabel(link), rttMs: link.rttMs, tls: link.tls, rate: link.rate ?? null, direct, proxied: proxiedTrips });
  }
}

/** A capped link goes through the proxy even at 0 ms. */
const proxied = (link: Link): boolean => link.rttMs > 0 || link.rate !== undefined;
const key = (link: Link): string => `${link.compress ?? false} ${link.tls} ${link.rttMs} ${link.rate ?? ''}`;

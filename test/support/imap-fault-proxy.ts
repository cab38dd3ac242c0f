import net from 'node:net';

export interface Injection {
  /** Which client command to answer in the server's place (matched on the command's first chunk). */
  match: RegExp;
  /** Answer the nth match (1-based), counted over all connections. */
  nth: number;
  /** The tagged response to send instead of forwarding the command. */
  reply: (tag: string) => string;
}

export interface FaultPlan {
  injections?: Injection[];
  /** Keep STARTTLS (default: removed, so the conversation can be read and altered). */
  keepStartTls?: boolean;
  /** Connect to the server from this address (127.0.0.2: Dovecot then sees a non-local client). */
  localAddress?: string;
  /** On the nth connection (1-based), after this many bytes from the server, send a BYE and hang up. */
  byeAfter?: { connection: number; bytes: number };
  /** Hang up (with a BYE) right after the server completed the nth command matching this. */
  byeAfterReply?: { match: RegExp; nth: number };
  /** Server lines to leave out of the answers (matched whole, CRLF excluded), e.g. /^\* OK \[UIDNEXT \d+\]/. */
  dropLines?: RegExp;
  /**
   * Go silent in the middle of a command: once the client sent a command matching `match` (the
   * nth such over all connections, or every one without `nth`) and `afterBytes` more bytes came
   * from the server, forward nothing either way for `seconds` (Infinity: for good), keeping both
   * sockets open, as a dead link or a hung server does.
   */
  stall?: { match: RegExp; nth?: number; afterBytes: number; seconds: number };
}

export interface FaultProxy {
  port: number;
  /** What was done, so a test can check its fault really happened. */
  readonly log: string[];
  /** Everything the client sent, for checks that no secret crossed in the clear. */
  readonly upstreamBytes: () => Buffer;
  /** For each stall the client gave up on: milliseconds from the stall to its hang-up. */
  readonly stallWaits: number[];
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real IMAP server that injects the faults providers produce:
 * throttling answers in the server's place and a BYE in the middle of a transfer. It removes
 * STARTTLS from the capabilities so it can read the (loopback, plaintext) conversation.
 */
export function startFaultProxy(target: { host: string; port: number }, plan: FaultPlan): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const log: string[] = [];
  const seen = new Map<Injection, number>();
  let connections = 0;
  let byeMatches = 0;
  let stallMatches = 0;
  const stallWaits: number[] = [];
  const sent: Buffer[] = [];
  const server = net.createServer((client) => {
    const n = ++connections;
    const upstream = net.connect({ port: target.port, host: target.host, localAddress: plan.localAddress });
    sockets.add(client).add(upstream);
    const hangUp = (): void => {
      client.destroy();
      upstream.destroy();
    };
    let down = 0;
    let byeTag: string | undefined;
    let partialLine = '';
    // Stall: bytes still to forward before it (undefined: not armed), and since when it holds.
    let stallIn: number | undefined;
    let stalledAt: number | undefined;
    const held: Array<{ to: net.Socket; buf: Buffer }> = [];
    const startStall = (): void => {
      stalledAt = Date.now();
      log.push(`stall on connection ${n}`);
      const seconds = plan.stall!.seconds;
      if (Number.isFinite(seconds)) {
        setTimeout(() => {
          stalledAt = undefined;
          for (const h of held.splice(0)) h.to.write(h.buf);
        }, seconds * 1000);
      }
    };
    client.on('close', () => {
      if (stalledAt !== undefined) stallWaits.push(Date.now() - stalledAt);
    });
    upstream.on('data', (buf: Buffer) => {
      if (stalledAt !== undefined) {
        held.push({ to: client, buf });
        return;
      }
      if (stallIn !== undefined && buf.length >= stallIn) {
        const [now, later] = [buf.subarray(0, stallIn), buf.subarray(stallIn)];
        stallIn = undefined;
        client.write(now);
        held.push({ to: client, buf: later });
        startStall();
        return;
      }
      if (stallIn !== undefined) stallIn -= buf.length;
      let raw = buf.toString('latin1');
      if (plan.dropLines) {
        // Whole lines only: a line split across reads is held back until its CRLF arrives.
        const lines = (partialLine + raw).split('\r\n');
        partialLine = lines.pop()!;
        const kept = lines.filter((line) => !plan.dropLines!.test(line));
        if (kept.length < lines.length) log.push(`dropped ${lines.length - kept.length} line(s) on connection ${n}`);
        raw = kept.map((line) => `${line}\r\n`).join('');
      }
      const text = plan.keepStartTls ? raw : raw.replace(/ STARTTLS/g, '');
      down += buf.length;
      if (plan.byeAfter?.connection === n && down >= plan.byeAfter.bytes) {
        log.push(`bye on connection ${n} after ${down} bytes`);
        client.write('* BYE Connection is closed. 13\r\n', hangUp);
        return;
      }
      client.write(Buffer.from(text, 'latin1'));
      if (byeTag && new RegExp(`^${byeTag} (OK|NO|BAD)`, 'm').test(text)) {
        log.push(`bye after the reply to ${byeTag} on connection ${n}`);
        byeTag = undefined;
        client.write('* BYE Connection is closed. 13\r\n', hangUp);
      }
    });
    client.on('data', (buf: Buffer) => {
      sent.push(buf);
      if (stalledAt !== undefined) {
        held.push({ to: upstream, buf });
        return;
      }
      const text = buf.toString('latin1');
      const stall = plan.stall;
      if (stall?.match.test(text) && stallIn === undefined && (stall.nth === undefined || ++stallMatches === stall.nth)) stallIn = stall.afterBytes;
      if (plan.byeAfterReply?.match.test(text) && ++byeMatches === plan.byeAfterReply.nth) byeTag = text.split(' ')[0];
      for (const inj of plan.injections ?? []) {
        if (!inj.match.test(text)) continue;
        const count = (seen.get(inj) ?? 0) + 1;
        seen.set(inj, count);
        if (count !== inj.nth) continue;
        const tag = text.split(' ')[0]!;
        const reply = inj.reply(tag);
        log.push(`answered ${text.split('\r\n')[0]} with ${reply.trim()}`);
        client.write(reply);
        return;
      }
      upstream.write(buf);
    });
    for (const s of [client, upstream]) {
      s.on('error', hangUp);
      s.on('close', () => {
        sockets.delete(s);
        hangUp();
      });
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        log,
        upstreamBytes: () => Buffer.concat(sent),
        stallWaits,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise<void>((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

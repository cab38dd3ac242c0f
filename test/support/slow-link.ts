import net from 'node:net';

export interface SlowLink {
  port: number;
  /** Bytes per second in the slow direction, all connections together; undefined: unlimited. */
  rate: number | undefined;
  /** Bytes taken in for the slow direction so far (at most one chunk ahead of the link), so a test can act in the middle of a transfer. */
  bytes: number;
  close(): Promise<void>;
}

/** `up`: client to server (a restore over a home connection); `down`: server to client (a download from a far server). */
export type SlowDirection = 'up' | 'down';

/**
 * A TCP proxy in front of a real server whose one direction is slow: an APPEND (up) or a FETCH
 * (down) then takes long enough to be interrupted in the middle, or to outlast a timeout. Bytes
 * are forwarded in order, in slices of a twentieth of a second's worth, each when the shared link
 * would have sent it, so a slow transfer is a steady trickle, not bursts with silences between;
 * the other direction passes at once.
 */
export function startSlowLink(target: { host: string; port: number }, rate: number, direction: SlowDirection = 'up'): Promise<SlowLink> {
  const sockets = new Set<net.Socket>();
  let linkFreeAt = Date.now();
  const link: SlowLink = { port: 0, rate, bytes: 0, close: () => close() };
  /** Forwards `from`'s bytes to `to` at the link's rate. */
  const pace = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (buf: Buffer) => {
      link.bytes += buf.length;
      if (link.rate === undefined) {
        to.write(buf);
        return;
      }
      from.pause();
      const slice = Math.max(1, Math.floor(link.rate / 20));
      let sent = 0;
      const next = (): void => {
        if (sent >= buf.length || to.destroyed) {
          from.resume();
          return;
        }
        const part = buf.subarray(sent, sent + slice);
        sent += part.length;
        const now = Date.now();
        linkFreeAt = Math.max(linkFreeAt, now) + (part.length / (link.rate ?? Infinity)) * 1000;
        setTimeout(() => {
          to.write(part);
          next();
        }, linkFreeAt - now);
      };
      next();
    });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ port: target.port, host: target.host });
    sockets.add(client).add(upstream);
    const hangUp = (): void => {
      client.destroy();
      upstream.destroy();
    };
    if (direction === 'up') {
      pace(client, upstream);
      upstream.on('data', (buf: Buffer) => client.write(buf));
    } else {
      pace(upstream, client);
      client.on('data', (buf: Buffer) => upstream.write(buf));
    }
    for (const s of [client, upstream]) {
      s.on('error', hangUp);
      s.on('close', () => {
        hangUp();
        sockets.delete(s);
      });
    }
  });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return new Promise((resolve) => {
    server.listen(0, target.host, () => {
      link.port = (server.address() as net.AddressInfo).port;
      resolve(link);
    });
  });
}

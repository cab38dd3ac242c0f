import net from 'node:net';

export interface SlowLink {
  port: number;
  /** Bytes per second from clients to the server, all connections together; undefined: unlimited. */
  rate: number | undefined;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real server whose upload direction is slow, as a restore to a remote
 * server over a home connection is: an APPEND then takes long enough to be interrupted in the
 * middle. Client bytes are forwarded in order, each chunk when the shared link would have sent
 * it; answers from the server pass at once.
 */
export function startSlowLink(target: { host: string; port: number }, rate: number): Promise<SlowLink> {
  const sockets = new Set<net.Socket>();
  let linkFreeAt = Date.now();
  const link: SlowLink = { port: 0, rate, close: () => close() };
  const server = net.createServer((client) => {
    const upstream = net.connect({ port: target.port, host: target.host });
    sockets.add(client).add(upstream);
    const hangUp = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (buf: Buffer) => {
      if (link.rate === undefined) {
        upstream.write(buf);
        return;
      }
      client.pause();
      const now = Date.now();
      linkFreeAt = Math.max(linkFreeAt, now) + (buf.length / link.rate) * 1000;
      setTimeout(() => {
        upstream.write(buf);
        client.resume();
      }, linkFreeAt - now);
    });
    upstream.on('data', (buf: Buffer) => client.write(buf));
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

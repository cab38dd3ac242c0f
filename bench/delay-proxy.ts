// A userspace stand-in for `tc netem` (this kernel has no sch_netem): a TCP proxy that holds
// every chunk for RTT/2 in each direction. It runs inside the benchmark process, so its CPU is
// never counted as the client's.
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface DelayProxy {
  host: string;
  port: number;
  rttMs: number;
  close(): Promise<void>;
}

/**
 * Bytes held per direction (delay line plus the socket's unsent buffer) before the sender is
 * paused: like a TCP window, it caps throughput at about 4 MiB per RTT/2 instead of letting a fast
 * sender fill memory.
 */
const MAX_HELD_BYTES = 4 * 1024 * 1024;

export async function startDelayProxy(target: { host: string; port: number }, rttMs: number): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  // Half-open sockets, so a FIN waits in the delay line behind the data sent before it.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    delayLine(client, upstream, rttMs / 2);
    delayLine(upstream, client, rttMs / 2);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    rttMs,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Forwards `from` to `to`, each chunk (and the final half-close) `delayMs` after it arrived, in order. */
function delayLine(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: { chunk: Buffer | 'end'; due: number }[] = [];
  let held = 0;
  let timer: NodeJS.Timeout | undefined;

  const throttle = (): void => {
    if (held + to.writableLength > MAX_HELD_BYTES) from.pause();
    else if (from.isPaused()) from.resume();
  };
  const flush = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk } = queue.shift()!;
      if (to.destroyed) continue;
      if (chunk === 'end') {
        to.end();
        continue;
      }
      held -= chunk.length;
      to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now);
    throttle();
  };
  const enqueue = (chunk: Buffer | 'end'): void => {
    queue.push({ chunk, due: performance.now() + delayMs });
    timer ??= setTimeout(flush, delayMs);
  };

  from.on('data', (chunk: Buffer) => {
    held += chunk.length;
    enqueue(chunk);
    throttle();
  });
  from.once('end', () => enqueue('end'));
  to.on('drain', throttle);
  // A reset or an abrupt close is passed on at once, like an RST.
  from.on('error', () => to.destroy());
  from.once('close', (hadError) => {
    if (hadError || !from.readableEnded) to.destroy();
  });
}

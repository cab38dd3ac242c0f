// A userspace stand-in for `tc netem` (this kernel has no sch_netem): a TCP proxy that holds
// every chunk for RTT/2 in each direction, optionally behind a capped link (one rate per
// direction shared by every connection, like a small office's uplink), and counts the bytes it
// forwards. It runs inside the benchmark process, so its CPU is never counted as the client's.
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface DelayProxy {
  host: string;
  port: number;
  rttMs: number;
  /** bytes per second each way, all connections together; undefined: no cap */
  rate: number | undefined;
  /** bytes forwarded so far, client to server (up) and server to client (down), all connections */
  readonly bytes: { up: number; down: number };
  close(): Promise<void>;
}

/** One direction of the link: its byte count, and when a capped link has sent what it was given. */
interface Direction {
  bytes: number;
  freeAt: number;
}

/**
 * Bytes held per direction (delay line plus the socket's unsent buffer) before the sender is
 * paused: like a TCP window, it caps throughput at about 4 MiB per RTT/2 instead of letting a fast
 * sender fill memory.
 */
const MAX_HELD_BYTES = 4 * 1024 * 1024;
/**
 * Behind a capped link a connection holds at most this many seconds of the link's rate (still
 * several times the bandwidth-delay product at 40 ms), so one bulk sender cannot queue seconds of
 * data ahead of every other connection's commands.
 */
const CAPPED_HELD_SECONDS = 0.25;
/** A capped link sends a chunk in slices of this size, so connections interleave on it as packets do. */
const SLICE_BYTES = 16 * 1024;

export async function startDelayProxy(target: { host: string; port: number }, rttMs: number, rate?: number): Promise<DelayProxy> {
  if (rate !== undefined && !(rate > 0)) throw new Error(`link rate must be positive, not ${rate}`);
  const sockets = new Set<net.Socket>();
  const up: Direction = { bytes: 0, freeAt: 0 };
  const down: Direction = { bytes: 0, freeAt: 0 };
  const line = { delayMs: rttMs / 2, rate, maxHeld: rate === undefined ? MAX_HELD_BYTES : Math.min(MAX_HELD_BYTES, Math.max(SLICE_BYTES, rate * CAPPED_HELD_SECONDS)) };
  // Half-open sockets, so a FIN waits in the delay line behind the data sent before it.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    delayLine(client, upstream, up, line);
    delayLine(upstream, client, down, line);
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
    rate,
    bytes: {
      get up() {
        return up.bytes;
      },
      get down() {
        return down.bytes;
      },
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Forwards `from` to `to`, each chunk (and the final half-close) `delayMs` after it arrived, in
 * order. With a rate, a chunk first waits for the direction's link, which every connection
 * shares: it is sent once the bytes queued before it (on any connection) have gone at that rate,
 * then arrives `delayMs` later.
 */
function delayLine(from: net.Socket, to: net.Socket, direction: Direction, line: { delayMs: number; rate: number | undefined; maxHeld: number }): void {
  const { delayMs, rate, maxHeld } = line;
  const queue: { chunk: Buffer | 'end'; due: number }[] = [];
  let held = 0;
  let timer: NodeJS.Timeout | undefined;

  const throttle = (): void => {
    if (held + to.writableLength > maxHeld) from.pause();
    else if (from.isPaused()) from.resume();
  };
  const flush = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk } = queue.shift()!;
      if (chunk === 'end') {
        if (!to.destroyed) to.end();
        continue;
      }
      held -= chunk.length;
      if (to.destroyed) continue;
      direction.bytes += chunk.length;
      to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now);
    throttle();
  };
  const enqueue = (chunk: Buffer | 'end', sentAt: number): void => {
    queue.push({ chunk, due: sentAt + delayMs });
    timer ??= setTimeout(flush, Math.max(0, queue[0]!.due - performance.now()));
  };

  from.on('data', (chunk: Buffer) => {
    held += chunk.length;
    if (rate === undefined) enqueue(chunk, performance.now());
    else {
      for (let at = 0; at < chunk.length; at += SLICE_BYTES) {
        const slice = chunk.subarray(at, at + SLICE_BYTES);
        direction.freeAt = Math.max(direction.freeAt, performance.now()) + (slice.length / rate) * 1000;
        enqueue(slice, direction.freeAt);
      }
    }
    throttle();
  });
  // The queue is sent from its head only, so the FIN still follows the data queued before it.
  from.once('end', () => enqueue('end', performance.now()));
  to.on('drain', throttle);
  // A reset or an abrupt close is passed on at once, like an RST.
  from.on('error', () => to.destroy());
  from.once('close', (hadError) => {
    if (hadError || !from.readableEnded) to.destroy();
  });
}

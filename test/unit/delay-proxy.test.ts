// The benchmark's delay proxy (bench/delay-proxy.ts): a capped link is one rate per direction
// shared by every connection, and the proxy counts what it forwards each way. The only timing
// asserted is a lower bound the cap imposes, which a slow machine cannot break.
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startDelayProxy, type DelayProxy } from '../../bench/delay-proxy.js';

/** A server that answers each connection's first byte with `reply` bytes and counts what it receives. */
async function startSink(reply: number): Promise<{ port: number; received: () => number; close(): Promise<void> }> {
  let received = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    let answered = false;
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (!answered && reply > 0) s.write(Buffer.alloc(reply, 0x61));
      answered = true;
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connects through the proxy, sends `send` bytes, and resolves once `expect` bytes came back. */
function exchange(proxy: DelayProxy, send: number, expectBack: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    let back = 0;
    socket.once('error', reject);
    socket.on('data', (d: Buffer) => {
      back += d.length;
      if (back >= expectBack) resolve(socket);
    });
    socket.write(Buffer.alloc(send, 0x62), () => {
      if (expectBack === 0) resolve(socket);
    });
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('delay proxy', () => {
  it('caps all connections together at one rate per direction, like a shared uplink', async () => {
    const sink = await startSink(0);
    cleanups.push(sink.close);
    const rate = 1_000_000;
    const proxy = await startDelayProxy({ host: '127.0.0.1', port: sink.port }, 0, rate);
    cleanups.push(proxy.close);

    const perConnection = 300_000;
    const started = performance.now();
    const sockets = await Promise.all([exchange(proxy, perConnection, 0), exchange(proxy, perConnection, 0)]);
    for (const s of sockets) cleanups.push(async () => void s.destroy());
    await until(() => sink.received() === 2 * perConnection);
    const seconds = (performance.now() - started) / 1000;

    // 600 KB at 1 MB/s take at least 0.6 s; a cap per connection would let them through in 0.3 s.
    expect(seconds).toBeGreaterThanOrEqual((0.95 * 2 * perConnection) / rate);
  });

  it('counts the bytes it forwards each way, over all connections', async () => {
    const reply = 50_000;
    const sink = await startSink(reply);
    cleanups.push(sink.close);
    const proxy = await startDelayProxy({ host: '127.0.0.1', port: sink.port }, 10, 4_000_000);
    cleanups.push(proxy.close);

    const sockets = await Promise.all([exchange(proxy, 100_000, reply), exchange(proxy, 20_000, reply)]);
    for (const s of sockets) cleanups.push(async () => void s.destroy());
    await until(() => sink.received() === 120_000);

    expect(proxy.bytes).toEqual({ up: 120_000, down: 2 * reply });
  });

  it('counts without a cap too', async () => {
    const sink = await startSink(7_000);
    cleanups.push(sink.close);
    const proxy = await startDelayProxy({ host: '127.0.0.1', port: sink.port }, 0);
    cleanups.push(proxy.close);

    const socket = await exchange(proxy, 3_000, 7_000);
    cleanups.push(async () => void socket.destroy());
    await until(() => sink.received() === 3_000);

    expect(proxy.bytes).toEqual({ up: 3_000, down: 7_000 });
  });
});

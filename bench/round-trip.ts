// Checks what a tool will see through the delay proxy: IMAP round trips of the configured RTT.
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import { median } from './measure.js';

export interface RoundTrips {
  /** LOGIN, which includes Dovecot's authentication time */
  loginMs: number;
  /** median of several NOOPs: the round trip alone */
  noopMs: number;
  /** the fastest NOOP: the round trip without scheduling delays of a busy machine */
  noopMinMs: number;
}

const NOOPS = 7;

/**
 * Logs in over plaintext IMAP (fine on loopback), or implicit TLS verified against `ca` (PEM),
 * and times LOGIN and NOOP.
 */
export async function imapRoundTrips(addr: { host: string; port: number }, user: string, password: string, ca?: Buffer): Promise<RoundTrips> {
  const socket = ca === undefined ? net.connect(addr) : tls.connect({ ...addr, ca, servername: 'localhost' });
  socket.setNoDelay(true);
  let buffered = '';
  const waiters: { prefix: string; resolve: () => void }[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    let eol: number;
    while ((eol = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, eol);
      buffered = buffered.slice(eol + 2);
      const waiter = waiters[0];
      if (waiter && line.startsWith(waiter.prefix)) {
        waiters.shift();
        if (!/^\S+ OK/.test(line)) socket.destroy(new Error(`IMAP answered ${JSON.stringify(line)}`));
        else waiter.resolve();
      }
    }
  });
  const closed = new Promise<never>((_, reject) => {
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('IMAP connection closed')));
  });
  closed.catch(() => undefined); // the close after LOGOUT is expected
  const expect = (prefix: string): Promise<void> => Promise.race([new Promise<void>((resolve) => waiters.push({ prefix, resolve })), closed]);
  const timed = async (tag: string, command: string): Promise<number> => {
    const started = performance.now();
    const done = expect(`${tag} `);
    socket.write(`${tag} ${command}\r\n`);
    await done;
    return performance.now() - started;
  };
  try {
    await expect('* OK');
    const loginMs = await timed('a', `LOGIN "${user}" "${password}"`);
    const noops: number[] = [];
    for (let i = 0; i < NOOPS; i++) noops.push(await timed(`n${i}`, 'NOOP'));
    await timed('z', 'LOGOUT');
    return { loginMs, noopMs: median(noops), noopMinMs: Math.min(...noops) };
  } finally {
    socket.destroy();
  }
}

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN } from '../support/cli.js';

// The installed `mailferry` is dist/bin/main.js run through its shebang, which carries the
// settings that keep a run's memory low (docs/performance.md, "Memory"): the process it starts,
// looked at in /proc while it waits for a server's greeting, has them.
describe.runIf(process.platform === 'linux')('the mailferry command as installed', () => {
  let server: Server;
  let work: string;
  const sockets: Socket[] = [];
  let connected: Promise<void>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mailferry-runtime-'));
    // Accepts and never greets, so the run waits while it is looked at.
    connected = new Promise((resolve) => {
      server = createServer((socket) => {
        sockets.push(socket);
        resolve();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(work, { recursive: true, force: true });
  });

  it('runs node with a 4 MB young generation and glibc giving buffers of 128 KB and more back', async () => {
    const port = (server.address() as { port: number }).port;
    const child = spawn(MAIN, ['backup', '--from', `imap://user@127.0.0.1:${port}`, '--to', join(work, 'backup'), '--quiet'], {
      env: { ...process.env, MAILFERRY_FROM_PASSWORD: 'secret' },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await connected;
      const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
      const environ = (await readFile(`/proc/${child.pid}/environ`, 'utf8')).split('\0');
      expect(cmdline).toContain('--max-semi-space-size=4');
      expect(environ).toEqual(expect.arrayContaining(['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=131072', 'MALLOC_TRIM_THRESHOLD_=131072']));
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('has a shebang line that older kernels read whole (127 bytes at most)', async () => {
    const firstLine = (await readFile(MAIN)).subarray(0, 256).toString('latin1').split('\n')[0]!;
    expect(firstLine.startsWith('#!')).toBe(true);
    expect(Buffer.byteLength(firstLine)).toBeLessThanOrEqual(127);
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Command {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface Measurement {
  wallSeconds: number;
  peakRssMb: number;
  /** user + system of the client process and its children, as GNU time reports them */
  cpuSeconds: number;
  /** every process on the machine (Dovecot, the delay proxy, and anything else running) */
  machineCpuSeconds: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A hung tool must fail the benchmark rather than stall it. */
const TIMEOUT_MS = 10 * 60 * 1000;
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux architecture Node runs on

/** Process groups of the commands running now, for stopAll(). */
const running = new Set<number>();

/** Kills every command still running (on Ctrl-C: they run in their own process groups). */
export function stopAll(): void {
  for (const pgid of running) process.kill(-pgid, 'SIGKILL');
}

/**
 * Runs a command under GNU time: wall clock, peak RSS and CPU of the client process alone.
 *
 * Every measurement starts after a `sync`: what earlier runs left dirty (Dovecot writes without
 * fsync, removed destinations) is written back first, rather than during the next tool's run,
 * whose own fsyncs would wait for it.
 */
export async function measure(cmd: Command): Promise<Measurement> {
  spawnSync('sync', { stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'mf-bench-time-'));
  const out = join(dir, 'time');
  const cpuBefore = machineCpuTicks();
  const started = process.hrtime.bigint();
  // Its own process group, so a timeout can stop the tool and not only /usr/bin/time.
  const child = spawn('/usr/bin/time', ['-o', out, '-f', '%M %U %S', cmd.command, ...cmd.args], {
    env: { ...process.env, ...cmd.env },
    cwd: cmd.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid !== undefined) running.add(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => {
    stderr += `\n[bench] killed after ${TIMEOUT_MS / 1000} s`;
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, TIMEOUT_MS);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? -1));
  }).finally(() => {
    clearTimeout(timer);
    if (child.pid !== undefined) running.delete(child.pid);
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const machineCpuSeconds = (machineCpuTicks() - cpuBefore) / CLOCK_TICKS_PER_SECOND;
  // GNU time prefixes "Command exited with non-zero status N" lines; the figures are the last line.
  const last = readFileSync(out, 'utf8').trim().split('\n').pop() ?? '';
  rmSync(dir, { recursive: true, force: true });
  const [rssKb, user, sys] = last.split(' ').map(Number);
  if (![rssKb, user, sys].every((n) => Number.isFinite(n))) throw new Error(`cannot read GNU time's output ${JSON.stringify(last)}`);
  return { wallSeconds, peakRssMb: rssKb! / 1024, cpuSeconds: user! + sys!, machineCpuSeconds, exitCode, stdout, stderr };
}

/** Busy time of all CPUs from /proc/stat: everything but idle and iowait. */
function machineCpuTicks(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return user + nice + system + irq + softirq + steal;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

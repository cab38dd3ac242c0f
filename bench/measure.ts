import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measurement {
  wallSeconds: number;
  peakRssMb: number;
  cpuSeconds: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under GNU time: wall clock, peak RSS and CPU of the client process alone. */
export async function measure(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measurement> {
  const out = join(mkdtempSync(join(tmpdir(), 'mf-bench-')), 'time');
  const started = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-o', out, '-f', '%M %U %S', command, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const last = readFileSync(out, 'utf8').trim().split('\n').pop() ?? '';
  const [rssKb, user, sys] = last.split(' ').map(Number);
  return { wallSeconds, peakRssMb: (rssKb ?? 0) / 1024, cpuSeconds: (user ?? 0) + (sys ?? 0), exitCode, stdout, stderr };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

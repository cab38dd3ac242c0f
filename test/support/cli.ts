import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built binary, as `npx mailferry` runs it. */
export const MAIN = fileURLToPath(new URL('../../dist/bin/main.js', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts `mailferry ARGS` with extra environment; the caller may kill it. It runs on the test's own
 * node, unless `asInstalled`: then the file is executed, so its `#!` line sets the allocator and
 * heap as it does when a shell or npx runs the command (what a test of memory must measure).
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, asInstalled = false): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(asInstalled ? MAIN : process.execPath, asInstalled ? args : [MAIN, ...args], {
    env: { ...process.env, MAILFERRY_FROM_PASSWORD: undefined, MAILFERRY_TO_PASSWORD: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return startCli(args, env).done;
}

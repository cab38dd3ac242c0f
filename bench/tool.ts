// What every benchmarked tool provides, so the runner treats mailferry and the anchors alike.
import type { DovecotServer } from '../src/sandbox/dovecot-server.js';
import type { Command, Measurement } from './measure.js';

/** `update`: a rerun after NEW_MESSAGES new messages arrived in the source (the large account only) */
export type Phase = 'full' | 'rerun' | 'update';

/** How many messages arrive in the source before an `update` run (bench/new-mail.ts). */
export const NEW_MESSAGES = 100;

/** Where a tool connects: Dovecot itself, or a delay proxy in front of it. */
export interface Endpoint {
  host: string;
  port: number;
  /** implicit TLS (imaps), verified against the server's CA (`server.caFile`) */
  tls: boolean;
  /** the server offers COMPRESS=DEFLATE */
  compress: boolean;
}

export interface RunContext {
  server: DovecotServer;
  /** the source account and how many messages it holds now (read at check time: `update` adds some) */
  source: { user: string; messages: number };
  endpoint: Endpoint;
  /** an empty directory for this repetition's files */
  workDir: string;
  /** unique per case and repetition; also valid as a Dovecot user name */
  id: string;
}

export interface PreparedRun {
  command: Command;
  /** Throws unless the run did its job: a full run copies the whole source, a rerun nothing more, an update the new messages. */
  check(m: Measurement, phase: Phase): Promise<void>;
  /** frees the destination's disk space once both phases are checked */
  cleanup(): Promise<void>;
}

export interface Tool {
  /** row label, e.g. 'mbsync' or 'mailferry migrate, 4 conn' */
  name: string;
  /** why the tool cannot run on this machine, or undefined when it can */
  unavailable(): Promise<string | undefined>;
  /** sets up a fresh, empty destination */
  prepare(ctx: RunContext): Promise<PreparedRun>;
}

export const PASSWORD = 'bench-password';

/** The shared part of every check: exit status 0 and the expected message count at the destination. */
export function expectCopy(m: Measurement, counted: number, expected: number, what: string): void {
  // OfflineIMAP reports its errors on stdout.
  if (m.exitCode !== 0) throw new Error(`${what} failed (exit ${m.exitCode}): ${(m.stderr.trim() || m.stdout.trim()).slice(-2000)}`);
  if (counted !== expected) throw new Error(`${what}: the destination holds ${counted} messages, the source ${expected}`);
}

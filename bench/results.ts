// One row per case and phase: the raw figures of every repetition, summarised on demand.
import { median, type Measurement } from './measure.js';
import type { Phase } from './tool.js';

export interface Row {
  tool: string;
  rttMs: number;
  /** implicit TLS */
  tls: boolean;
  /** the capped link's rate each way, bytes per second; null: no cap */
  rate: number | null;
  corpus: string;
  phase: Phase;
  /** size of the source account */
  messages: number;
  bytes: number;
  status: 'ok' | 'skipped' | 'failed';
  /** why the row has no figures */
  reason?: string;
  wallSeconds: number[];
  cpuSeconds: number[];
  machineCpuSeconds: number[];
  peakRssMb: number[];
  /** through a delay proxy: the bytes it forwarded during each run, client to server and back */
  wireBytes?: { up: number[]; down: number[] };
}

export function addMeasurement(row: Row, m: Measurement, wire?: { up: number; down: number }): void {
  if (wire) {
    row.wireBytes ??= { up: [], down: [] };
    row.wireBytes.up.push(wire.up);
    row.wireBytes.down.push(wire.down);
  }
  row.wallSeconds.push(m.wallSeconds);
  row.cpuSeconds.push(m.cpuSeconds);
  row.machineCpuSeconds.push(m.machineCpuSeconds);
  row.peakRssMb.push(m.peakRssMb);
}

export const hasFigures = (r: Row): boolean => r.status === 'ok' && r.wallSeconds.length > 0;
export const medianWall = (r: Row): number => median(r.wallSeconds);
/** The highest of the runs: the memory a user must budget for. */
export const maxRss = (r: Row): number => Math.max(...r.peakRssMb);
/** Messages per second of a full run; a rerun moves nothing. */
export const messagesPerSecond = (r: Row): number => r.messages / medianWall(r);
/** Median bytes over the proxy per run in the busier direction: what a capped link had to carry. */
export const wireBytes = (r: Row): number | undefined => (r.wireBytes ? Math.max(median(r.wireBytes.up), median(r.wireBytes.down)) : undefined);

import type { RunPlan } from '../engine/run-plan.js';
import type { Eta } from './first-minute-eta.js';
import { counted } from './plural.js';

/** The lines a first run prints before it copies (stderr), and whether the last one is a warning. */
export function firstRunLines(plan: RunPlan): { info: string[]; warning?: string } {
  const left = plan.skipped > 0 ? ` (${plan.skipped} left out by the filters)` : '';
  const info = [`first run (no checkpoint yet): ${counted(plan.folders, 'folder')}, ${counted(plan.messages, 'message')} to copy, ${mb(plan.bytes)} at the source${left}`];
  if (plan.quota === null) info.push('destination quota: not stated by the server');
  else if (plan.quota) info.push(`destination quota: ${mb(plan.quota.freeBytes)} free of ${mb(plan.quota.limitBytes)}`);
  const warning = plan.overQuota && plan.quota
    ? `the ${mb(plan.bytes)} to copy exceed the destination's free quota (${mb(plan.quota.freeBytes)}): the run will stop when the destination is full`
    : undefined;
  return { info, ...(warning ? { warning } : {}) };
}

/** `ETA: 12 min 5 s left, from the first minute's rate by bytes (1.2 MB/s, 30.0 msg/s; bytes held steadier)` */
export function etaLine(eta: Eta | undefined, afterSeconds: number): string {
  if (!eta) return `ETA: unknown, nothing was settled in the first ${duration(afterSeconds)}`;
  const rates = `${mb(eta.bytesPerSecond)}/s, ${eta.messagesPerSecond.toFixed(1)} msg/s`;
  return `ETA: ${duration(eta.seconds)} left, from the rate of the first ${duration(afterSeconds)} (${rates}) by ${eta.by}, which held steadier`;
}

function duration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

import type { StorageQuota } from '../stores/store.js';
import { totals, type FolderReport } from './report.js';

/**
 * What a first run (no checkpoint yet) is about to do, told before it copies anything: the work
 * at the source after the filters, as a dry run counts it, and the destination's room for it.
 */
export interface RunPlan {
  folders: number;
  /** Messages to copy, and their bytes at the source. */
  messages: number;
  bytes: number;
  /** Messages the filters leave out. */
  skipped: number;
  /**
   * The destination's storage quota with its free bytes; null when the destination states none
   * (an IMAP server without QUOTA); absent for a destination that has no quota (a local backup).
   */
  quota?: { limitBytes: number; usedBytes: number; freeBytes: number } | null;
  /** The bytes to copy exceed the free quota: the run will stop when the destination is full. */
  overQuota: boolean;
}

/** The plan from a preview's folder reports and the destination's quota (`undefined`: it has none to ask). */
export function runPlan(reports: FolderReport[], quota: StorageQuota | null | undefined): RunPlan {
  const t = totals(reports);
  const room = quota ? { limitBytes: quota.limitBytes, usedBytes: quota.usedBytes, freeBytes: Math.max(0, quota.limitBytes - quota.usedBytes) } : quota;
  return {
    folders: t.folders,
    messages: t.copied,
    bytes: t.bytes,
    skipped: t.skipped,
    ...(room !== undefined ? { quota: room } : {}),
    overQuota: !!room && t.bytes > room.freeBytes,
  };
}

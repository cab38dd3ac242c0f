import type { FolderReport } from './report.js';
import type { RunPlan } from './run-plan.js';

/**
 * Everything the engine tells the outside world goes through these events; reporters (progress
 * bars, plain lines, JSON) subscribe. The engine itself never prints.
 */
export type EngineEvent =
  /** Which accounts the run is between, first, so even a run that fails at once can name them. */
  | { type: 'accounts'; source: string; destination: string }
  /** The folders of the run, each with its message count as listed (an upper bound of its work). */
  | { type: 'plan'; folders: number; messages: number; bytes: number; sources: Array<{ source: string; messages: number }> }
  /** A first run (no checkpoint yet) before it copies: what it will do, and the destination's room. */
  | { type: 'first-run'; plan: RunPlan }
  /** An attempt at a folder knows its work: the messages (and their bytes) it has still to settle. */
  | { type: 'folder-start'; source: string; destination: string; messages: number; bytes: number }
  /**
   * Messages settled (copied, found already there, refused, failed, vanished), with their bytes as
   * scanned; negative for answered APPENDs taken back when the rest of their batch failed.
   */
  | { type: 'progress'; source: string; messages: number; bytes: number }
  | { type: 'folder-done'; report: FolderReport }
  | { type: 'notice'; message: string };

export type EmitEvent = (event: EngineEvent) => void;

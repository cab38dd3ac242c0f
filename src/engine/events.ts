import type { FolderReport } from './report.js';

/**
 * Everything the engine tells the outside world goes through these events; reporters (progress
 * bars, plain lines, JSON) subscribe. The engine itself never prints.
 */
export type EngineEvent =
  /** Which accounts the run is between, first, so even a run that fails at once can name them. */
  | { type: 'accounts'; source: string; destination: string }
  | { type: 'plan'; folders: number; messages: number; bytes: number }
  | { type: 'folder-start'; source: string; destination: string; messages: number; bytes: number }
  | { type: 'progress'; source: string; messages: number; bytes: number }
  | { type: 'folder-done'; report: FolderReport }
  | { type: 'notice'; message: string };

export type EmitEvent = (event: EngineEvent) => void;

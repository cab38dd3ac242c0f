import type { MessageData } from '../domain/types.js';

/**
 * Where messages too large for the destination go instead (`--oversize-dir`), so that nothing
 * the destination refuses for its size silently vanishes. Saving the same message twice is
 * harmless (same name, same bytes).
 */
export interface OversizeSink {
  /** Saves the raw message; returns where it went. */
  save(folderComponents: string[], uidValidity: number, message: MessageData): Promise<string>;
}

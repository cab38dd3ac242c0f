/** What happened to one folder pair; the `--json` summary is a list of these plus totals. */
export interface FolderReport {
  source: string;
  destination: string;
  /** Messages in the source folder when it was opened. */
  found: number;
  copied: number;
  /** Already at the destination (found by content), so not copied again. */
  present: number;
  /** Left out on purpose, by reason (`before-since`, `too-large`, ...). */
  skipped: Record<string, number>;
  failed: number;
  failures: MessageFailure[];
  /** Messages too large for the destination, and where `--oversize-dir` put them. */
  oversize: Array<{ uid: number; size: number; savedTo?: string }>;
  bytes: number;
  flagsUpdated: number;
  /**
   * Messages the destination server stored with other bytes than it was sent (a NUL made 0x80,
   * 8-bit header bytes made 'X', a newline added): copied, and recognised as copies on reruns.
   */
  alteredByServer: AlteredMessage[];
  /** Messages deleted from the destination because they were deleted at the source (backup --mirror). */
  removed?: number;
  /** The folder itself could not be used (created, opened): why. */
  error?: string;
  /** Times a broken connection was re-opened and the folder resumed (throttling pauses not counted). */
  reconnects?: number;
}

export interface AlteredMessage {
  /** Source UID. */
  uid: number;
  size: number;
  destUid?: number;
  destSize: number;
}

export interface MessageFailure {
  uid: number;
  reason: string;
  message: string;
}

export function emptyReport(source: string, destination: string): FolderReport {
  return { source, destination, found: 0, copied: 0, present: 0, skipped: {}, failed: 0, failures: [], oversize: [], bytes: 0, flagsUpdated: 0, alteredByServer: [] };
}

export interface Totals {
  folders: number;
  found: number;
  copied: number;
  present: number;
  skipped: number;
  failed: number;
  bytes: number;
  flagsUpdated: number;
  alteredByServer: number;
}

export function totals(reports: FolderReport[]): Totals {
  const t: Totals = { folders: reports.length, found: 0, copied: 0, present: 0, skipped: 0, failed: 0, bytes: 0, flagsUpdated: 0, alteredByServer: 0 };
  for (const r of reports) {
    t.found += r.found;
    t.copied += r.copied;
    t.present += r.present;
    t.skipped += Object.values(r.skipped).reduce((a, b) => a + b, 0);
    t.failed += r.failed + (r.error ? 1 : 0);
    t.bytes += r.bytes;
    t.flagsUpdated += r.flagsUpdated;
    t.alteredByServer += r.alteredByServer.length;
  }
  return t;
}

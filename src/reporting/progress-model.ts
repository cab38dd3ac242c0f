import type { EngineEvent } from '../engine/events.js';

/** One folder's progress: messages and bytes settled of those it has to do. */
export interface FolderProgress {
  messages: number;
  bytes: number;
  /** What the folder has to do: exact once it has started (`counted`), else the listing's upper bound. */
  totalMessages: number;
  totalBytes: number;
  counted: boolean;
  finished: boolean;
}

export interface TotalProgress {
  messages: number;
  bytes: number;
  /** Exact when `counting` is false; while folders are still uncounted, their listed message counts stand in. */
  totalMessages: number;
  /** Of the counted folders only (a listing tells no sizes). */
  totalBytes: number;
  /** Folders whose work is not known yet (not started, not done). */
  counting: number;
  folders: number;
  /** Since the model was made (the run's start). */
  seconds: number;
  /** Seconds left, once every folder is counted and something has moved. */
  etaSeconds?: number;
}

/**
 * What the live displays show, from the engine's events alone. A folder's total is what its
 * current attempt found to do plus what it had done before: a retry restates the total instead of
 * adding to it. The total of the run is known once every folder has started or finished; only
 * then is there an ETA, from the work done so far in bytes and messages alike (a message costs
 * about as much as 64 KB beyond its bytes: parsing, hashing, journaling, a round trip's share).
 */
export class ProgressModel {
  private readonly folders = new Map<string, FolderProgress>();
  private readonly started: number;

  constructor(private readonly now: () => number = Date.now) {
    this.started = now();
  }

  apply(event: EngineEvent): void {
    switch (event.type) {
      case 'plan':
        for (const s of event.sources) this.folders.set(s.source, { messages: 0, bytes: 0, totalMessages: s.messages, totalBytes: 0, counted: false, finished: false });
        break;
      case 'folder-start': {
        const f = this.folder(event.source);
        f.totalMessages = f.messages + event.messages;
        f.totalBytes = f.bytes + event.bytes;
        f.counted = true;
        break;
      }
      case 'progress': {
        const f = this.folder(event.source);
        f.messages += event.messages;
        f.bytes += event.bytes;
        break;
      }
      case 'folder-done': {
        // Whatever is left undone now (vanished, refused folder) will not be done in this run.
        const f = this.folder(event.report.source);
        f.totalMessages = f.messages;
        f.totalBytes = f.bytes;
        f.counted = f.finished = true;
        break;
      }
      default:
        break;
    }
  }

  /** A folder the run has heard of; undefined before the plan names it. */
  folderProgress(source: string): Readonly<FolderProgress> | undefined {
    return this.folders.get(source);
  }

  total(): TotalProgress {
    const t: TotalProgress = { messages: 0, bytes: 0, totalMessages: 0, totalBytes: 0, counting: 0, folders: this.folders.size, seconds: (this.now() - this.started) / 1000 };
    for (const f of this.folders.values()) {
      t.messages += f.messages;
      t.bytes += f.bytes;
      t.totalMessages += Math.max(f.totalMessages, f.messages);
      t.totalBytes += Math.max(f.totalBytes, f.bytes);
      if (!f.counted) t.counting++;
    }
    const done = work(t.messages, t.bytes);
    if (t.counting === 0 && done > 0) {
      t.etaSeconds = (t.seconds * Math.max(0, work(t.totalMessages, t.totalBytes) - done)) / done;
    }
    return t;
  }

  private folder(source: string): FolderProgress {
    let f = this.folders.get(source);
    if (!f) {
      // Not in the plan (a caller that sends none): counted from its first event on.
      f = { messages: 0, bytes: 0, totalMessages: 0, totalBytes: 0, counted: false, finished: false };
      this.folders.set(source, f);
    }
    return f;
  }
}

/** What one message costs beyond its bytes, in bytes (as folder-sync.ts weighs UID ranges). */
const PER_MESSAGE_BYTES = 64 * 1024;

function work(messages: number, bytes: number): number {
  return bytes + messages * PER_MESSAGE_BYTES;
}

import type { AppendRequest, FolderStatus, MessageData, MessageMeta } from '../domain/types.js';
import { UsageError } from '../errors/errors.js';
import type { AppendOutcome, FolderHandle, ScanRange } from './store.js';

/** A folder handle that passes everything to another: the base of handle decorators. */
export abstract class DelegatingHandle implements FolderHandle {
  constructor(protected readonly inner: FolderHandle) {}

  get status(): FolderStatus {
    return this.inner.status;
  }
  get permanentFlags(): ReadonlySet<string> | undefined {
    return this.inner.permanentFlags;
  }
  get incomplete(): string | undefined {
    return this.inner.incomplete;
  }
  search(criteria: string): Promise<number[]> {
    if (!this.inner.search) return Promise.reject(new UsageError('--search: this source cannot search its messages'));
    return this.inner.search(criteria);
  }
  scan(range: ScanRange): Promise<MessageMeta[]> {
    return this.inner.scan(range);
  }
  fetch(uids: number[]): AsyncIterable<MessageData> {
    return this.inner.fetch(uids);
  }
  append(messages: AppendRequest[], answered?: (index: number) => void): Promise<AppendOutcome[]> {
    return this.inner.append(messages, answered);
  }
  setFlags(uid: number, flags: string[]): Promise<void> {
    return this.inner.setFlags(uid, flags);
  }
  async setLabels(uid: number, labels: string[]): Promise<void> {
    await this.inner.setLabels?.(uid, labels);
  }
  expunge(uids: number[]): Promise<void> {
    if (!this.inner.expunge) return Promise.reject(new UsageError('this destination cannot remove messages'));
    return this.inner.expunge(uids);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}


/**
 * Runs operations one after another, in call order. A folder on disk is one set of files however
 * many handles the engine opens on it (it opens several for parallel UID ranges), so its reads and
 * writes go through one of these: UIDs are handed out once, an mbox is appended at one end.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    // The next operation waits for this one to settle, whether it failed or not.
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * One pause for every worker of a run: when a server says it is throttling, hammering it from
 * the other connections would only prolong the penalty, so all of them wait out the back-off.
 */
export class PauseGate {
  private until = 0;

  pause(ms: number): void {
    // A little jitter keeps the workers from reconnecting in lockstep.
    this.until = Math.max(this.until, Date.now() + ms + Math.floor(Math.random() * 250));
  }

  get pausedUntil(): number {
    return this.until;
  }

  /** Resolves once no pause is in force (or at once when aborted). */
  async wait(signal?: AbortSignal): Promise<void> {
    while (Date.now() < this.until && !signal?.aborted) {
      await new Promise((r) => setTimeout(r, Math.min(this.until - Date.now(), 500)));
    }
  }
}

import type PQueue from 'p-queue';

/**
 * The connection slots of a run: one per `--connections`, handed out by the run's queue (each
 * task holds at most one connection per side). A folder big enough to be the run's long pole is
 * split into UID ranges when it is planned, and its extra ranges become tasks of their own in this
 * queue, ahead of the folders not yet started: they run as soon as any folder ends, not only when
 * a slot happens to be idle at the moment the big folder starts (at the start of a run none is).
 */
export class Lanes {
  constructor(
    private readonly queue: PQueue,
    /** How many slots there are: a folder is never split into more ranges. */
    readonly total: number,
    /** Messages of the whole run per slot: a folder with fewer is no long pole, and is not split. */
    readonly share = 0,
  ) {}

  /**
   * Runs `task` in the next free slot, before any folder still waiting for one. The caller learns
   * the outcome from the task itself (see RangeClaim in folder-sync.ts): a rejection here is
   * swallowed, and a task dropped by an aborted run never runs at all.
   */
  spawn(task: () => Promise<void>): void {
    void this.queue.add(() => task().catch(() => undefined), { priority: 1 });
  }
}

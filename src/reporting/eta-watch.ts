import type { RunPlan } from '../engine/run-plan.js';
import { firstMinuteEta, type WorkSample } from './first-minute-eta.js';
import { etaLine } from './first-run-text.js';

/** How long a first run goes before it tells its ETA: long enough for a rate worth the name. */
export const ETA_AFTER_MS = 60_000;
/** The first minute is sampled in this many windows, to see which rate holds steady. */
const WINDOWS = 6;

/**
 * Counts a first run's settled work from its plan on, and once `afterMs` have passed prints one
 * line with the ETA of the rest (see first-minute-eta.ts). A run that ends sooner prints none.
 */
export class EtaWatch {
  private readonly done: WorkSample = { messages: 0, bytes: 0 };
  private readonly windows: WorkSample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly afterMs: number,
    private readonly print: (line: string) => void,
  ) {}

  start(plan: RunPlan): void {
    let mark: WorkSample = { ...this.done };
    this.timer = setInterval(() => {
      this.windows.push({ messages: this.done.messages - mark.messages, bytes: this.done.bytes - mark.bytes });
      mark = { ...this.done };
      if (this.windows.length < WINDOWS) return;
      this.stop();
      const left = { messages: plan.messages - this.done.messages, bytes: plan.bytes - this.done.bytes };
      this.print(etaLine(firstMinuteEta(this.windows, this.afterMs / 1000 / WINDOWS, left), this.afterMs / 1000));
    }, this.afterMs / WINDOWS);
    this.timer.unref();
  }

  progress(messages: number, bytes: number): void {
    this.done.messages += messages;
    this.done.bytes += bytes;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

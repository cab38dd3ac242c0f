import { EventEmitter } from 'node:events';
import type { EmitEvent, EngineEvent } from '../engine/events.js';

/** Progress events by name, as `Run.on` delivers them. */
export type RunEvents = { [K in EngineEvent['type']]: Extract<EngineEvent, { type: K }> };

/**
 * A job under way: an EventEmitter of its progress and a promise of its result (`await run`).
 * The job starts on the next tick, so listeners attached right after the call miss no event.
 */
export class Run<Result> extends EventEmitter implements PromiseLike<Result> {
  readonly result: Promise<Result>;

  constructor(work: (emit: EmitEvent) => Promise<Result>) {
    super();
    this.result = Promise.resolve().then(() => work((event) => void this.emit(event.type, event)));
  }

  then<A = Result, B = never>(onFulfilled?: ((value: Result) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result.then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<Result | B> {
    return this.result.catch(onRejected);
  }
}

/** Typed overloads of the EventEmitter methods, merged into the class. */
export interface Run<Result> {
  on<K extends keyof RunEvents>(event: K, listener: (event: RunEvents[K]) => void): this;
  once<K extends keyof RunEvents>(event: K, listener: (event: RunEvents[K]) => void): this;
  off<K extends keyof RunEvents>(event: K, listener: (event: RunEvents[K]) => void): this;
}

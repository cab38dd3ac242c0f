import type { EmitEvent } from '../engine/events.js';
import type { CliContext } from './context.js';

/**
 * What turning options into a job request needs besides the options: where diagnostics and events
 * go, the stop signal, and whether a password may be asked for. The CLI passes its context; the
 * library API passes its own (no terminal).
 */
export type JobIo = Pick<CliContext, 'logger' | 'signal' | 'stdinIsTTY'> & { emit: EmitEvent };

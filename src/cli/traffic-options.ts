import type { Options } from 'yargs';
import type { TrafficLimits } from '../engine/traffic.js';
import { UsageError } from '../errors/errors.js';

/** Limits for providers that cap how fast or how much an account may move. */
export const trafficOptions: Record<string, Options> = {
  'max-bytes-per-second': { type: 'number', group: 'Limits:', describe: 'fetch at most this many bytes per second, all connections together' },
  'max-messages-per-second': { type: 'number', group: 'Limits:', describe: 'fetch at most this many messages per second, all connections together' },
  'daily-limit-down': { type: 'number', group: 'Limits:', describe: 'bytes a day that may be downloaded from the source (counted in the checkpoint); reaching it exits 6' },
  'daily-limit-up': { type: 'number', group: 'Limits:', describe: 'bytes a day that may be uploaded to the destination; reaching it exits 6' },
};

export interface TrafficArgs {
  'max-bytes-per-second'?: number;
  'max-messages-per-second'?: number;
  'daily-limit-down'?: number;
  'daily-limit-up'?: number;
}

export function parseTraffic(argv: TrafficArgs): TrafficLimits {
  const value = (name: keyof TrafficArgs): number | undefined => {
    const v = argv[name];
    if (v === undefined) return undefined;
    if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name}: expected a positive number, got ${v}`);
    return v;
  };
  return {
    maxBytesPerSecond: value('max-bytes-per-second'),
    maxMessagesPerSecond: value('max-messages-per-second'),
    dailyDown: value('daily-limit-down'),
    dailyUp: value('daily-limit-up'),
  };
}

import { describe, expect, it } from 'vitest';
import { firstMinuteEta } from '../../src/reporting/first-minute-eta.js';

describe("the ETA from the first minute's rate", () => {
  it('a run bound by bandwidth (steady bytes, message counts swinging with their sizes) is predicted by bytes', () => {
    const windows = [{ messages: 1, bytes: 1_000_000 }, { messages: 50, bytes: 1_000_000 }, { messages: 5, bytes: 1_000_000 }];
    const eta = firstMinuteEta(windows, 10, { messages: 1_000, bytes: 6_000_000 })!;
    expect(eta.by).toBe('bytes');
    expect(eta.bytesPerSecond).toBe(100_000);
    expect(eta.seconds).toBe(60);
  });

  it('a run bound by round trips (steady messages, bytes swinging) is predicted by messages', () => {
    const windows = [{ messages: 20, bytes: 10_000 }, { messages: 20, bytes: 900_000 }, { messages: 20, bytes: 50_000 }];
    const eta = firstMinuteEta(windows, 10, { messages: 120, bytes: 99_000_000 })!;
    expect(eta.by).toBe('messages');
    expect(eta.messagesPerSecond).toBe(2);
    expect(eta.seconds).toBe(60);
  });

  it('nothing settled: no ETA', () => {
    expect(firstMinuteEta([{ messages: 0, bytes: 0 }], 10, { messages: 5, bytes: 5 })).toBeUndefined();
  });
});

/** Settled work in one window of the first minute. */
export interface WorkSample {
  messages: number;
  bytes: number;
}

export interface Eta {
  seconds: number;
  /** The rate the ETA is from: the one that held steadier over the first minute's windows. */
  by: 'bytes' | 'messages';
  bytesPerSecond: number;
  messagesPerSecond: number;
}

/**
 * The time left from the first minute's rate. A run is bound either by bytes (bandwidth) or by
 * messages (round trips, per-message work); whichever binds it moves at a steady rate while the
 * other swings with message sizes, so the rate whose windows vary least (coefficient of
 * variation) predicts the rest. Undefined when nothing was settled.
 */
export function firstMinuteEta(windows: WorkSample[], windowSeconds: number, left: WorkSample): Eta | undefined {
  const seconds = windows.length * windowSeconds;
  const done = windows.reduce((a, w) => ({ messages: a.messages + w.messages, bytes: a.bytes + w.bytes }), { messages: 0, bytes: 0 });
  if (seconds <= 0 || done.messages <= 0) return undefined;
  const bytesPerSecond = done.bytes / seconds;
  const messagesPerSecond = done.messages / seconds;
  const by = done.bytes > 0 && variation(windows.map((w) => w.bytes)) <= variation(windows.map((w) => w.messages)) ? 'bytes' : 'messages';
  const eta = by === 'bytes' ? Math.max(0, left.bytes) / bytesPerSecond : Math.max(0, left.messages) / messagesPerSecond;
  return { seconds: eta, by, bytesPerSecond, messagesPerSecond };
}

function variation(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean === 0) return Infinity;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance) / mean;
}

import { getHeapSpaceStatistics } from 'node:v8';

/**
 * `MAILFERRY_DEBUG_MEMORY=1`: samples the process's memory every 20 ms and writes the highest of
 * each figure to stderr at exit, to see where a run's peak RSS goes (V8's heap spaces, buffers
 * outside it, or neither: the allocator and Node itself). For measuring (bench/memory.ts), not
 * for users.
 */
export function traceMemory(): void {
  const peak: Record<string, number> = {};
  const note = (name: string, bytes: number): void => {
    if (bytes > (peak[name] ?? 0)) peak[name] = bytes;
  };
  const sample = (): void => {
    const m = process.memoryUsage();
    for (const [k, v] of Object.entries(m)) note(k, v);
    note('rss - heapTotal - external', m.rss - m.heapTotal - m.external);
    for (const s of getHeapSpaceStatistics()) note(`space ${s.space_name}`, s.space_size);
  };
  setInterval(sample, 20).unref();
  process.on('exit', () => {
    sample();
    const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)}`;
    process.stderr.write(`memory peaks (MB): ${Object.entries(peak).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}\n`);
  });
}

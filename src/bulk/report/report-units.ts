/** Numbers as the HTML report prints them: fixed English formats, so a report reads the same on every machine. */

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ONE_DECIMAL = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function count(n: number): string {
  return GROUPED.format(n);
}

/** Decimal units (kB = 1000 bytes), as the chart's MB/s. */
export function byteSize(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${count(bytes)} bytes` : `${ONE_DECIMAL.format(value)} ${units[unit]}`;
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 07 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${ONE_DECIMAL.format(ms / 1000)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes} min ${pad(totalSeconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} min`;
}

/** A rate with up to three significant digits ("0.125", "12.5", "1,250"). */
export function rate(value: number): string {
  return new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 }).format(value);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

import { displayWidth, padToWidth } from '../../reporting/display-width.js';
import { stripControl } from '../../reporting/logger.js';

/** Rows as aligned columns (the first row is the heading); control characters from mail are removed. */
export function tableText(rows: string[][]): string[] {
  const cells = rows.map((r) => r.map(stripControl));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => displayWidth(r[i]!))));
  return cells.map((r) => r.map((c, i) => padToWidth(c, widths[i]!)).join('  ').trimEnd());
}

export function sizeText(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

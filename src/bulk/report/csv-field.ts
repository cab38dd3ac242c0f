/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled.
 * Text that a spreadsheet would take for a formula (= + - @, or a tab or carriage return before
 * one) gets a leading apostrophe first (OWASP "CSV injection"): the reports show folder names and
 * server error lines, which anyone who can send mail or name a folder partly controls.
 */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV record; CRLF as RFC 4180 has it (every spreadsheet and CSV library reads it). */
export function csvRecord(fields: readonly (string | number | undefined)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

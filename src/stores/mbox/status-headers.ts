/**
 * The flag headers mutt and Dovecot read from an mbox: `Status:` (R seen, O not recent),
 * `X-Status:` (A answered, F flagged, T draft, D deleted) and `X-Keywords:`. They are written with
 * fixed widths padded with spaces, as Dovecot pads X-Keywords, so a flag change is rewritten in
 * place (same length) rather than by rewriting the whole mbox.
 */

const STATUS_WIDTH = 2;
const X_STATUS_WIDTH = 4;
/** Room for keywords in a new message: a few more than it has, so most changes fit in place. */
const MIN_KEYWORD_ROOM = 48;
const SPARE_KEYWORD_ROOM = 32;

const X_STATUS: ReadonlyArray<readonly [string, string]> = [
  ['A', '\\answered'],
  ['F', '\\flagged'],
  ['T', '\\draft'],
  ['D', '\\deleted'],
];

/**
 * The three header lines for `flags`. With `length`, the block has exactly that many bytes (an
 * in-place update); keywords that do not fit are left out of the header, the index keeps them.
 */
export function statusHeaders(flags: readonly string[], eol: '\r\n' | '\n', length?: number): Buffer {
  const lower = new Set(flags.map((f) => f.toLowerCase()));
  const status = `${lower.has('\\seen') ? 'R' : ''}O`.padEnd(STATUS_WIDTH);
  const xStatus = X_STATUS.filter(([, f]) => lower.has(f)).map(([l]) => l).join('').padEnd(X_STATUS_WIDTH);
  const keywords = flags.filter((f) => !f.startsWith('\\'));
  const fixed = `Status: ${status}${eol}X-Status: ${xStatus}${eol}X-Keywords:${eol}`;
  const wanted = keywords.reduce((n, k) => n + 1 + Buffer.byteLength(k), 0);
  const room = length !== undefined ? length - Buffer.byteLength(fixed) : Math.max(MIN_KEYWORD_ROOM, wanted + SPARE_KEYWORD_ROOM);
  let value = '';
  for (const k of keywords) {
    if (Buffer.byteLength(value) + 1 + Buffer.byteLength(k) > room) break;
    value += ` ${k}`;
  }
  return Buffer.from(`Status: ${status}${eol}X-Status: ${xStatus}${eol}X-Keywords:${value.padEnd(room)}${eol}`);
}

/**
 * The `From_` line that starts each message of an mbox other programs wrote. Writers disagree on
 * its date (correctness.md §4.1): asctime (`From nobody Mon Sep 15 15:43:58 2003`, mutt, mailferry),
 * a zone before the year (`... Tue Mar 19 09:13:51 +0000 2019`, Google Takeout), a zone after it,
 * no weekday, no seconds. The date is the message's INTERNALDATE: UTC unless a numeric zone is
 * given (a zone name such as `PST` cannot be resolved and counts as UTC).
 *
 * A line only counts as a separator when its date parses: a body line that merely begins with
 * `From ` (one an mboxo writer failed to quote) then stays in its message.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ZONE = String.raw`(?:[+-]\d{4}|[A-Z]{1,5})`;
const FROM_LINE = new RegExp(
  String.raw`^From \S* +(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? +)?(${MONTHS.join('|')}) +(\d{1,2}),? +(\d{1,2}):(\d{2})(?::(\d{2}))? +(?:(${ZONE}) +)?(\d{4})(?: +(${ZONE}))?(?:\s|$)`,
);

/** The date of a `From_` line (without its line ending), or undefined when it is not one. */
export function fromLineDate(line: string): Date | undefined {
  const m = FROM_LINE.exec(line);
  if (!m) return undefined;
  const [, month, day, hours, minutes, seconds, zoneBefore, year, zoneAfter] = m;
  const d = Number(day);
  const h = Number(hours);
  const min = Number(minutes);
  const s = Number(seconds ?? '0');
  if (d < 1 || d > 31 || h > 23 || min > 59 || s > 60) return undefined;
  const utc = Date.UTC(Number(year), MONTHS.indexOf(month!), d, h, min, s);
  return new Date(utc - offsetMinutes(zoneBefore ?? zoneAfter) * 60_000);
}

function offsetMinutes(zone: string | undefined): number {
  const m = zone ? /^([+-])(\d{2})(\d{2})$/.exec(zone) : null;
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

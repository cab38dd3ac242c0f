/**
 * Flags as they travel: `\Recent` is session state that no client may set (RFC 3501 §2.3.2), and a
 * destination folder without `\*` in PERMANENTFLAGS keeps only the flags it lists.
 */
export function flagsForDest(flags: readonly string[], permanent: ReadonlySet<string> | undefined): string[] {
  return flags.filter((f) => {
    if (f.toLowerCase() === '\\recent') return false;
    if (!permanent || permanent.has('\\*')) return true;
    return permanent.has(f) || (f.startsWith('\\') && [...permanent].some((p) => p.toLowerCase() === f.toLowerCase()));
  });
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((f, i) => f === sb[i]);
}

/**
 * Flags a destination must not receive although it would store them, as its provider profile
 * lists them: `$MDNSent` toward Exchange makes read receipts go out again. Flags and keywords
 * compare case-insensitively (RFC 3501 §2.3.2).
 */
export function withoutDropped(flags: readonly string[], dropped: readonly string[]): string[] {
  const drop = new Set(dropped.map((f) => f.toLowerCase()));
  return flags.filter((f) => !drop.has(f.toLowerCase()));
}

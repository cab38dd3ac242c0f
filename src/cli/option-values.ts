import type { Options } from 'yargs';

/**
 * yargs reads `--folder -dash` as two options (and `-dash` as the flags d, a, s, h), so a folder,
 * a path or a password command that starts with `-` could only be given as `--folder=-dash`. As
 * getopt does, an option that takes a value takes the next word, whatever it starts with: such
 * a pair is joined into `--option=word` before yargs sees it. Nothing after `--` is touched.
 */
export function bindOptionValues(args: readonly string[], table: Readonly<Record<string, Options>>): string[] {
  const takesValue = new Set<string>();
  for (const [name, option] of Object.entries(table)) {
    if (option.type === 'boolean' || option.type === 'count' || option.boolean || option.count) continue;
    for (const spelling of [name, ...[option.alias ?? []].flat()]) takesValue.add(spelling.length === 1 ? `-${spelling}` : `--${spelling}`);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return [...out, ...args.slice(i)];
    const next = args[i + 1];
    if (takesValue.has(arg) && next !== undefined && next.startsWith('-')) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

import type { Options } from 'yargs';
import { UsageError } from '../errors/errors.js';

/**
 * What the command line prints or writes rather than returns (--json, --quiet, --log-file: a
 * library caller has `log` and the run's events), and migrate's modes that print instead of
 * copying (--just-folders, --check-login): not options of a library call.
 */
const PRINTING_OPTIONS = new Set(['json', 'quiet', 'log-file', 'just-folders', 'check-login']);

/** `from-password-file` → `fromPasswordFile`, as yargs spells the same option in camel case. */
export function camelCase(option: string): string {
  return option.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The options of a command's table that the library API takes, camel-cased. */
export function apiOptionNames(table: Record<string, Options>): string[] {
  return Object.keys(table).filter((name) => !PRINTING_OPTIONS.has(name)).map(camelCase);
}

/**
 * Checks a library caller's option object against the command's own option table (the one
 * `--help` shows) and returns it as yargs would have parsed it from the command line: the same
 * defaults, required options, types and choices. Keys in `extra` are the API's own (a signal,
 * passwords as values) and are left to the caller.
 */
export function argvFromOptions(command: string, table: Record<string, Options>, options: object, extra: readonly string[]): Record<string, unknown> {
  if (typeof options !== 'object' || options === null) throw new UsageError(`${command}: expected an object of options`);
  const given = options as Record<string, unknown>;
  const known = new Map(Object.entries(table).filter(([name]) => !PRINTING_OPTIONS.has(name)).map(([name, spec]) => [camelCase(name), { name, spec }]));
  for (const key of Object.keys(given)) {
    if (!known.has(key) && !extra.includes(key)) throw new UsageError(`${command}: unknown option ${key}`);
  }
  const argv: Record<string, unknown> = { json: false, quiet: false };
  for (const [key, { name, spec }] of known) {
    const value = given[key] ?? spec.default;
    if (value === undefined) {
      if (spec.demandOption) throw new UsageError(`${command}: option ${key} is required`);
      continue;
    }
    checkValue(command, key, spec, value);
    argv[name] = value;
  }
  return argv;
}

function checkValue(command: string, key: string, spec: Options, value: unknown): void {
  const type = spec.type ?? 'string';
  const ok = (v: unknown): boolean => typeof v === type && (spec.choices === undefined || (spec.choices as unknown[]).includes(v));
  const valid = spec.array ? Array.isArray(value) && value.every(ok) : ok(value);
  if (!valid) {
    const expected = spec.choices ? `one of ${(spec.choices as unknown[]).join(', ')}` : `a ${type}`;
    throw new UsageError(`${command}: option ${key}: expected ${spec.array ? `an array, each ${expected}` : expected}`);
  }
}

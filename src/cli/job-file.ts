import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { Options } from 'yargs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { argvFromOptions, camelCase } from '../api/option-table.js';
import { accountSchema, fileSchema, jobSchema, type Account, type JobCommand } from '../config/job-file-schema.js';
import { UsageError } from '../errors/errors.js';
import { backupOptions } from './commands/backup.js';
import { migrateOptions } from './commands/migrate.js';
import { restoreOptions } from './commands/restore.js';

/** Each job command's option table: the same one its `--help` shows and its command line is checked against. */
export const JOB_TABLES: Readonly<Record<JobCommand, Record<string, Options>>> = { migrate: migrateOptions, backup: backupOptions, restore: restoreOptions };

/** Which of a command's `--from`/`--to` name an account in a job (the others are paths). */
const ACCOUNT_WORDS: Readonly<Record<JobCommand, ReadonlyArray<'from' | 'to'>>> = { migrate: ['from', 'to'], backup: ['from'], restore: ['to'] };

/** The per-side options an account gives, by its field name (`ca` is `--from-ca` on the source side). */
const SIDE_FIELDS = ['profile', 'ca', 'authzid', 'password-file', 'password-command', 'oauth2', 'oauth2-token-command'] as const;

/** Options a job may not set: `mailferry run` prints for all its jobs alike, and a mode that only prints is no job. */
const RUN_WIDE = new Set(['json', 'quiet', 'debug', 'log-file', 'just-folders', 'check-login']);

/** A job as the command line would have given it: `argv` is what yargs gives the command's handler. */
export interface ConfiguredJob {
  name: string;
  command: JobCommand;
  argv: Record<string, unknown>;
  /** Per side, where the password comes from when it is not an option: a variable or the file itself. */
  secrets: Partial<Record<'from' | 'to', { env: string } | { clear: string }>>;
}

export interface Problem {
  line: number;
  message: string;
}

/** `$XDG_CONFIG_HOME/mailferry/config.yaml`, i.e. ~/.config/mailferry/config.yaml. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'mailferry', 'config.yaml');
}

/**
 * Reads and checks a job file: every problem at once, each with its line. `check` builds each
 * job's request as its command would, so an option the command line refuses is refused here.
 */
export async function readJobFile(file: string, check: (job: ConfiguredJob) => void): Promise<{ jobs: ConfiguredJob[]; problems: Problem[] }> {
  let text: string;
  let mode: number;
  try {
    [text, mode] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mode)]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`cannot read ${file}: ${code}${code === 'ENOENT' ? ' (mailferry config init writes an example)' : ''}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const problems: Problem[] = [];
  const lineOf = (at: Array<string | number>): number => {
    // The deepest node there is: a missing key is reported where its object is.
    for (let n = at.length; n >= 0; n--) {
      const node = (n === 0 ? doc.contents : doc.getIn(at.slice(0, n), true)) as Node | null | undefined;
      const offset = keyOffset(doc, at.slice(0, n)) ?? node?.range?.[0];
      if (offset !== undefined) return lines.linePos(offset).line;
    }
    return 1;
  };
  const add = (at: Array<string | number>, message: string): void => void problems.push({ line: lineOf(at), message });
  for (const e of doc.errors) problems.push({ line: e.linePos?.[0].line ?? 1, message: e.message.split('\n')[0]! });
  if (problems.length > 0) return { jobs: [], problems };

  const top = fileSchema.safeParse(doc.toJS());
  if (!top.success) {
    for (const issue of top.error.issues) add(issuePath([], issue), issue.message);
    return { jobs: [], problems };
  }
  const accounts = new Map<string, Account>();
  for (const [name, raw] of Object.entries(top.data.accounts ?? {})) {
    const parsed = accountSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) add(issuePath(['accounts', name], issue), `account ${name}: ${issue.message}`);
      continue;
    }
    if (parsed.data.password !== undefined && (mode & 0o077) !== 0) {
      add(['accounts', name, 'password'], `account ${name}: a clear password in a file other users can read (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${file}`);
    }
    accounts.set(name, parsed.data);
  }
  const jobs: ConfiguredJob[] = [];
  for (const [name, raw] of Object.entries(top.data.jobs)) {
    const parsed = jobSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) add(issuePath(['jobs', name], issue), `job ${name}: ${issue.message}`);
      continue;
    }
    const job = configuredJob(name, parsed.data as Record<string, unknown> & { command: JobCommand }, accounts, (key, message) => add(['jobs', name, ...(key ? [key] : [])], `job ${name}: ${message}`));
    if (!job) continue;
    try {
      check(job);
      jobs.push(job);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      add(['jobs', name], `job ${name}: ${err.message}`);
    }
  }
  return { jobs, problems };
}

/** A job's options with its accounts put in, checked against its command's table; undefined after a problem. */
function configuredJob(name: string, raw: Record<string, unknown> & { command: JobCommand }, accounts: Map<string, Account>, problem: (key: string | undefined, message: string) => void): ConfiguredJob | undefined {
  const { command, ...options } = raw;
  const table = JOB_TABLES[command];
  const words = ACCOUNT_WORDS[command];
  const given: Record<string, unknown> = {};
  const secrets: ConfiguredJob['secrets'] = {};
  let ok = true;
  for (const [key, value] of Object.entries(options)) {
    const sideOption = words.find((w) => SIDE_FIELDS.some((f) => key === `${w}-${f}`));
    if (sideOption) {
      problem(key, `${key} belongs in the account (as ${key.slice(sideOption.length + 1)})`);
      ok = false;
    } else if (!Object.hasOwn(table, key) || RUN_WIDE.has(key)) {
      problem(key, `unknown option ${key}${RUN_WIDE.has(key) ? ' (give it to mailferry run)' : ` (mailferry ${command} --help lists them)`}`);
      ok = false;
    } else if ((words as readonly string[]).includes(key)) {
      const account = typeof value === 'string' ? accounts.get(value) : undefined;
      if (!account) {
        problem(key, `${key}: no account named ${String(value)} in accounts`);
        ok = false;
        continue;
      }
      const word = key as 'from' | 'to';
      given[word] = account.url;
      for (const field of SIDE_FIELDS) if (account[field] !== undefined) given[`${word}-${field}`] = account[field];
      if (account['password-env'] !== undefined) secrets[word] = { env: account['password-env'] };
      if (account.password !== undefined) secrets[word] = { clear: account.password };
    } else {
      given[key] = value;
    }
  }
  if (!ok) return undefined;
  try {
    const argv = argvFromOptions(`job ${name}`, table, Object.fromEntries(Object.entries(given).map(([k, v]) => [camelCase(k), v])), []);
    return { name, command, argv: { ...argv, _: [command] }, secrets };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // The message names the option in camel case, as the library API does; point at its line.
    const camel = /option (\w+)/.exec(err.message)?.[1];
    const key = camel === undefined ? undefined : Object.keys(options).find((k) => camelCase(k) === camel);
    problem(key, err.message.replace(`job ${name}: `, '').replace(/option (\w+)/, `option ${key ?? camel ?? ''}`));
    return undefined;
  }
}

/** Where the key of the entry at `at` starts (a problem with a value is told on the line of its key). */
function keyOffset(doc: Document, at: Array<string | number>): number | undefined {
  if (at.length === 0) return undefined;
  const parent = at.length === 1 ? doc.contents : doc.getIn(at.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === at[at.length - 1]);
  return isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
}

/** A zod issue's path under `base`; an unknown key is told where the key is. */
function issuePath(base: Array<string | number>, issue: { path: PropertyKey[]; code: string; keys?: string[] }): Array<string | number> {
  const at = [...base, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
  return issue.code === 'unrecognized_keys' && issue.keys?.[0] !== undefined ? [...at, issue.keys[0]] : at;
}

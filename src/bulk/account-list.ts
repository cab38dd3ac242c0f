import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { isMap, isScalar, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import { endpointLabel, parseAccountUrl } from '../config/account-url.js';
import { ProfileCatalog } from '../config/profile-catalog.js';
import { MailferryError } from '../errors/errors.js';
import { accountKey } from './account-key.js';
import type { BulkAccount, BulkCommand } from './bulk-account.js';
import type { ListProblem } from './list-problem.js';
import { defaultsSchema, LIST_VALUED, PASSWORD_FIELDS, ROW_FIELDS, rowSchema, type Row } from './list-row.js';

/** The passwords a list gives (only with --allow-passwords-in-list), by account key: kept in memory only. */
export type ListPasswords = ReadonlyMap<string, Partial<Record<'from' | 'to', string>>>;

export interface AccountList {
  accounts: BulkAccount[];
  passwords: ListPasswords;
  problems: ListProblem[];
}

export interface ListRules {
  command: BulkCommand;
  /** --allow-passwords-in-list */
  allowPasswords: boolean;
  /** --profile-file, against which a row's `profile` is checked. */
  profileFile?: string;
}

/** Multi-valued fields in a CSV cell: `INBOX;Sent`. */
export const CSV_SEPARATOR = ';';

interface RawRow {
  line: number;
  values: Record<string, unknown>;
  /** Where each field is, for problems. */
  at: (field: string) => { line: number; column?: number };
}

/**
 * Reads an account list (CSV with a header row, or YAML with `defaults` and `accounts`) and
 * checks all of it: every problem is returned, each with its line (and column where known), so
 * the user fixes the list in one go. Nothing is returned to run when there is a problem.
 */
export async function readAccountList(file: string, rules: ListRules): Promise<AccountList> {
  let text: string;
  let mode: number;
  try {
    [text, mode] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mode)]);
  } catch (err) {
    return { accounts: [], passwords: new Map(), problems: [{ line: 0, message: `cannot read the account list: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }] };
  }
  const problems: ListProblem[] = [];
  const rows = /\.ya?ml$/i.test(file) ? yamlRows(text, problems) : csvRows(text, rules.allowPasswords, problems);
  const schema = rowSchema(rules.command === 'migrate');
  const catalog = loadCatalog(rules.profileFile, problems);
  const accounts: BulkAccount[] = [];
  const passwords = new Map<string, Partial<Record<'from' | 'to', string>>>();
  const seenPairs = new Map<string, number>();
  const seenIds = new Map<string, number>();
  let passwordRows = 0;
  for (const raw of rows) {
    const parsed = schema.safeParse(raw.values);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push({ ...raw.at(issueField(issue)), message: issueMessage(issue) });
      continue;
    }
    const row = parsed.data;
    if (row.profile !== undefined && catalog) {
      try {
        catalog.get(row.profile, 'profile');
      } catch (err) {
        if (!(err instanceof MailferryError)) throw err;
        problems.push({ ...raw.at('profile'), message: err.message });
      }
    }
    for (const field of PASSWORD_FIELDS) {
      if (row[field] !== undefined && !rules.allowPasswords) problems.push({ ...raw.at(field), message: `a ${field} needs --allow-passwords-in-list (and a list file of mode 0600); a password option keeps passwords out of the list` });
    }
    const from = endpointLabel(parseAccountUrl(row.from, 'from'));
    const to = rules.command === 'migrate' ? endpointLabel(parseAccountUrl(row.to, 'to')) : path.resolve(path.dirname(file), row.to);
    const pair = `${from}\n${to}`;
    const earlier = seenPairs.get(pair);
    if (earlier !== undefined) problems.push({ line: raw.line, message: `the account pair ${from} -> ${to} is already on line ${earlier}` });
    else seenPairs.set(pair, raw.line);
    if (row.id !== undefined) {
      const sameId = seenIds.get(row.id);
      if (sameId !== undefined) problems.push({ ...raw.at('id'), message: `id ${row.id} is already on line ${sameId}` });
      else seenIds.set(row.id, raw.line);
    }
    const key = row.id ?? accountKey(rules.command, from, to);
    accounts.push({ key, ...(row.id !== undefined ? { id: row.id } : {}), origin: { file, line: raw.line }, from, to, options: rowOptions(row) });
    if (row.from_password !== undefined || row.to_password !== undefined) {
      passwordRows++;
      passwords.set(key, { ...(row.from_password !== undefined ? { from: row.from_password } : {}), ...(row.to_password !== undefined ? { to: row.to_password } : {}) });
    }
  }
  if (passwordRows > 0 && rules.allowPasswords && (mode & 0o077) !== 0) {
    problems.push({ line: 1, message: `the list holds passwords but its mode is ${(mode & 0o777).toString(8).padStart(4, '0')}: make it 0600 (chmod 600 ${file})` });
  }
  if (accounts.length === 0 && problems.length === 0) problems.push({ line: 1, message: 'no accounts in the list' });
  problems.sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
  return problems.length > 0 ? { accounts: [], passwords: new Map(), problems } : { accounts, passwords, problems };
}

function loadCatalog(profileFile: string | undefined, problems: ListProblem[]): ProfileCatalog | undefined {
  try {
    return ProfileCatalog.load(profileFile);
  } catch (err) {
    if (!(err instanceof MailferryError)) throw err;
    problems.push({ line: 0, message: err.message });
    return undefined;
  }
}

/** A row's own options, keyed as the command's option table spells them. */
function rowOptions(row: Row): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const field of [...LIST_VALUED, 'since'] as const) if (row[field] !== undefined) options[field] = row[field];
  // A row's profile is its source's: the destination's comes from its host or --to-profile.
  if (row.profile !== undefined) options['from-profile'] = row.profile;
  return options;
}

function issueField(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return issue.keys[0] ?? '';
  return String(issue.path[0] ?? '');
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field ${issue.keys.join(', ')} (fields: ${ROW_FIELDS.join(', ')})`;
  const field = String(issue.path[0] ?? '');
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${field}: missing`;
  return issue.message.startsWith(`${field}:`) || issue.message.startsWith(`--`) ? issue.message : `${field}: ${issue.message}`;
}

function csvRows(text: string, allowPasswords: boolean, problems: ListProblem[]): RawRow[] {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parseCsv(text, { info: true, trim: true, skip_empty_lines: true, comment: '#', comment_no_infix: true, relax_column_count: true }) as unknown as typeof records;
  } catch (err) {
    problems.push({ line: (err as { lines?: number }).lines ?? 1, message: `not CSV: ${(err as Error).message.split('\n')[0]}` });
    return [];
  }
  const [head, ...body] = records;
  if (!head) return [];
  const header = head.record.map((h) => h.toLowerCase());
  const headerLine = head.info.lines;
  const known = new Set<string>(ROW_FIELDS);
  header.forEach((name, i) => {
    if (!known.has(name)) problems.push({ line: headerLine, column: i + 1, message: `unknown column ${JSON.stringify(name)} (columns: ${ROW_FIELDS.join(', ')})` });
    else if (header.indexOf(name) !== i) problems.push({ line: headerLine, column: i + 1, message: `column ${name} is given twice` });
    else if ((PASSWORD_FIELDS as readonly string[]).includes(name) && !allowPasswords) {
      problems.push({ line: headerLine, column: i + 1, message: `a ${name} column needs --allow-passwords-in-list (and a list file of mode 0600); a password option keeps passwords out of the list` });
    }
  });
  const missing = ['from', 'to'].filter((required) => !header.includes(required));
  for (const column of missing) problems.push({ line: headerLine, message: `missing column ${column} (the header must name at least from and to)` });
  if (missing.length > 0) return [];
  // Columns already refused above are left out of the rows, so each is named once.
  const used = header.map((name, i) => known.has(name) && header.indexOf(name) === i && (allowPasswords || !(PASSWORD_FIELDS as readonly string[]).includes(name)));
  return body.map(({ record, info }) => {
    const values: Record<string, unknown> = {};
    record.forEach((cell, i) => {
      const name = header[i];
      if (name === undefined || !used[i] || cell === '') return;
      values[name] = (LIST_VALUED as readonly string[]).includes(name) ? cell.split(CSV_SEPARATOR).map((v) => v.trim()).filter((v) => v !== '') : cell;
    });
    if (record.length > header.length) problems.push({ line: info.lines, message: `${record.length} fields, but the header names ${header.length}` });
    return { line: info.lines, values, at: (field) => ({ line: info.lines, ...(header.includes(field) ? { column: header.indexOf(field) + 1 } : {}) }) };
  });
}

function yamlRows(text: string, problems: ListProblem[]): RawRow[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  for (const e of doc.errors) problems.push({ line: e.linePos?.[0].line ?? 1, column: e.linePos?.[0].col, message: e.message.split('\n')[0]! });
  if (problems.length > 0) return [];
  const pos = (node: Node | null | undefined, fallback: number): { line: number; column?: number } => {
    if (!node?.range) return { line: fallback };
    const p = lines.linePos(node.range[0]);
    return { line: p.line, column: p.col };
  };
  const top = doc.toJS() as unknown;
  if (typeof top !== 'object' || top === null || Array.isArray(top)) {
    problems.push({ line: 1, message: 'expected a mapping with accounts (a list) and, optionally, defaults' });
    return [];
  }
  const { defaults: rawDefaults, accounts, ...rest } = top as Record<string, unknown>;
  for (const key of Object.keys(rest)) problems.push({ ...pos(doc.get(key, true) as Node, 1), message: `unknown key ${key} (expected defaults and accounts)` });
  const defaults = defaultsSchema.safeParse(asLists(rawDefaults ?? {}));
  if (!defaults.success) {
    const node = doc.get('defaults', true) as Node;
    for (const issue of defaults.error.issues) problems.push({ ...keyPos(node, issueField(issue), pos), message: `defaults: ${issueMessage(issue)}` });
  }
  if (!Array.isArray(accounts)) {
    problems.push({ line: 1, message: 'accounts: expected a list of accounts (each with from and to)' });
    return [];
  }
  return accounts.map((item, i) => {
    const node = doc.getIn(['accounts', i], true) as Node;
    const { line } = pos(node, 1);
    const values = typeof item === 'object' && item !== null ? { ...(defaults.success ? defaults.data : {}), ...asLists(item) } : { from: undefined, to: undefined };
    return { line, values, at: (field: string) => (field ? keyPos(node, field, pos) : { line }) };
  });
}

/** A YAML row may give one folder as a string rather than a list of one. */
function asLists(value: unknown): Record<string, unknown> {
  const out = { ...(value as Record<string, unknown>) };
  for (const field of LIST_VALUED) if (typeof out[field] === 'string') out[field] = [out[field]];
  return out;
}

function keyPos(node: Node | undefined, field: string, pos: (n: Node | null | undefined, fallback: number) => { line: number; column?: number }): { line: number; column?: number } {
  const at = pos(node, 1);
  if (!isMap(node)) return at;
  const pair = (node as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === field);
  return pair ? pos(pair.key as Node, at.line) : at;
}

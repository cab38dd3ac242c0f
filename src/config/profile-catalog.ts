import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { z } from 'zod';
import { UsageError } from '../errors/errors.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { profileSchema, type Profile } from './profile-schema.js';

/** profiles/ at the package root. */
const BUILTIN_DIR = join(PACKAGE_ROOT, 'profiles');
const FALLBACK = 'generic';

type Json = Record<string, unknown>;

/** One profile as written in a file: a partial profile over the one it `extends`. */
interface Layer {
  /** How errors name it: `profiles/gmail.json` or `my-profiles.json`, plus a path prefix inside it. */
  file: string;
  prefix: string[];
  fields: Json;
  extends?: string;
}

/**
 * The provider profiles: the built-in ones (profiles/*.json) with a user's --profile-file laid
 * over them. Every profile is validated when the catalog is loaded, so a broken file is reported
 * before any connection is made, as one line naming the file and the field.
 */
export class ProfileCatalog {
  private constructor(private readonly byName: Map<string, Profile>) {}

  static load(profileFile?: string, builtinDir = BUILTIN_DIR): ProfileCatalog {
    const layers = new Map<string, Layer[]>();
    for (const entry of readdirSync(builtinDir).filter((f) => f.endsWith('.json')).sort()) {
      const file = `profiles/${entry}`;
      const fields = readJsonObject(join(builtinDir, entry), file);
      layers.set(basename(entry, '.json'), [layer(file, [], fields)]);
    }
    if (!layers.has(FALLBACK)) throw new UsageError(`profiles/${FALLBACK}.json is missing`);
    // A user's profiles come first, so their host names win detection.
    const userNames: string[] = [];
    if (profileFile !== undefined) {
      for (const [name, fields] of Object.entries(readJsonObject(profileFile, profileFile))) {
        if (!isObject(fields)) throw new UsageError(`${profileFile}: ${name}: expected an object (a partial profile)`);
        const own = layer(profileFile, [name], fields);
        // Overriding a built-in keeps it as the base unless the entry says otherwise.
        layers.set(name, layers.has(name) && own.extends === undefined ? [...layers.get(name)!, own] : [own]);
        userNames.push(name);
      }
    }
    const resolved = new Map<string, Profile>();
    const resolve = (name: string, seen: string[]): Profile => {
      const done = resolved.get(name);
      if (done) return done;
      const stack = layers.get(name)!;
      const baseName = baseOf(name, layers);
      let merged: Json = {};
      if (baseName !== undefined) {
        const where = `${stack[0]!.file}: ${[...stack[0]!.prefix, 'extends'].join('.')}`;
        if (!layers.has(baseName)) throw new UsageError(`${where}: no profile named '${baseName}'`);
        if (seen.includes(baseName)) throw new UsageError(`${where}: '${baseName}' extends '${name}' in a circle`);
        merged = toJson(resolve(baseName, [...seen, name]));
      }
      for (const l of stack) merged = deepMerge(merged, l.fields);
      const parsed = profileSchema.safeParse({ ...merged, name });
      if (!parsed.success) throw new UsageError(describeIssue(parsed.error.issues[0]!, layersOf(name, layers)));
      resolved.set(name, parsed.data);
      return parsed.data;
    };
    const order = [...userNames, ...[...layers.keys()].filter((n) => !userNames.includes(n))];
    return new ProfileCatalog(new Map(order.map((n) => [n, resolve(n, [])])));
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): Profile[] {
    return [...this.byName.values()];
  }

  /** The profile called `name`; `option` names where it was asked for, for the error. */
  get(name: string, option: string): Profile {
    const p = this.byName.get(name);
    if (!p) throw new UsageError(`${option} ${name}: no such profile (known: ${[...this.byName.keys()].sort().join(', ')})`);
    return p;
  }

  /** The profile whose `hosts` lists `host`, else the generic one. */
  detect(host: string): Profile {
    const h = host.toLowerCase().replace(/\.$/, '');
    return this.all().find((p) => p.hosts.includes(h)) ?? this.byName.get(FALLBACK)!;
  }
}

function layer(file: string, prefix: string[], raw: Json): Layer {
  const { extends: ext, ...fields } = raw;
  if (ext !== undefined && typeof ext !== 'string') throw new UsageError(`${file}: ${[...prefix, 'extends'].join('.')}: expected a profile name`);
  if ('name' in fields) throw new UsageError(`${file}: ${[...prefix, 'name'].join('.')}: a profile is named by its file name (or its key in a --profile-file)`);
  return { file, prefix, fields, extends: ext };
}

/**
 * The profile a profile is laid over: what its bottom layer `extends`, else generic. (A user's
 * override of a built-in sits on the built-in's layer; one that `extends` something replaces it.)
 */
function baseOf(name: string, layers: Map<string, Layer[]>): string | undefined {
  const bottom = layers.get(name)![0]!;
  return bottom.extends ?? (name === FALLBACK ? undefined : FALLBACK);
}

/** Every layer a resolved profile was built from, base first (for blaming a field on its file). */
function layersOf(name: string, layers: Map<string, Layer[]>): Layer[] {
  const base = baseOf(name, layers);
  const stack = layers.get(name)!;
  return base === undefined || !layers.has(base) ? stack : [...layersOf(base, layers), ...stack];
}

function readJsonObject(path: string, shown: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${shown}: cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${shown}: not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new UsageError(`${shown}: expected a JSON object`);
  return value;
}

/** Objects merge field by field; anything else (arrays too) in `over` replaces what `base` has. */
function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isObject(prev) && isObject(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

/**
 * One line for the first problem, blamed on the last layer that wrote the field (or, for a field
 * nobody wrote, on the profile's own file).
 */
function describeIssue(issue: z.core.$ZodIssue, chain: Layer[]): string {
  const path = issue.path.map(String);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path.push(issue.keys[0]!);
    message = 'unknown field';
  } else if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    message = `missing (expected ${issue.expected})`;
  }
  const blamed = [...chain].reverse().find((l) => hasPath(l.fields, path)) ?? chain[chain.length - 1]!;
  const where = [...blamed.prefix, ...path].join('.');
  return `${blamed.file}: ${where ? `${where}: ` : ''}${message}`;
}

function hasPath(obj: Json, path: string[]): boolean {
  let cur: unknown = obj;
  for (const key of path) {
    if (!isObject(cur) && !Array.isArray(cur)) return false;
    if (!(key in (cur as object))) return false;
    cur = (cur as Record<string, unknown>)[key];
  }
  return path.length > 0;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toJson(p: Profile): Json {
  const { name: _name, ...rest } = p;
  return rest as Json;
}

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of mailferry's own package.json (profiles/ and the version live there). Found by
 * walking up from this module, so it holds from src/ (tests), dist/ (the library) and dist/bin/
 * (the bundled command), whose depths differ.
 */
export const PACKAGE_ROOT: string = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'profiles'))) return d;
    if (dirname(d) === d) throw new Error(`mailferry's package.json was not found above ${dir}`);
  }
}

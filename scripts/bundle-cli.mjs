// Bundles the command line (dist/main.js, compiled by tsc) into dist/bin/: one file per lazily
// loaded part (a command's job is imported only when that command runs). Loading ~200 small ES
// modules cost a no-change rerun ~40 ms of its ~0.4 s and ~10 MB of memory.
// imapflow stays a package: imapflow-client.ts patches its compiler through require(), which must
// see the same module instance. better-sqlite3 is native.
import { chmodSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/main.js'],
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'imapflow'],
  // Bundled CommonJS packages call require() for Node's built-ins; ES modules have none of their own.
  banner: { js: "import { createRequire as __mailferryRequire } from 'node:module'; const require = __mailferryRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync('dist/bin/main.js', 0o755);

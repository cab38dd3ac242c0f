// Preloaded into a mailferry run (NODE_OPTIONS=--import) by tests that count its file-system
// work: every stat, lstat, readdir, opendir, open and readFile the run makes (node:fs, callback,
// sync and promise forms), one path per line, written to $MAILFERRY_TEST_FS_CALLS at exit.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

const calls = [];
const count = (api, name) => {
  const original = api[name];
  api[name] = function (target, ...rest) {
    calls.push(`${name} ${String(target)}`);
    return original.call(this, target, ...rest);
  };
};
for (const name of ['stat', 'lstat', 'readdir', 'opendir', 'open', 'readFile']) {
  count(fsp, name);
  count(fs, name);
  count(fs, `${name}Sync`);
}
// The run's `import * as fs from 'node:fs/promises'` sees the counting functions too.
syncBuiltinESMExports();
process.on('exit', () => fs.writeFileSync(process.env.MAILFERRY_TEST_FS_CALLS, calls.join('\n')));

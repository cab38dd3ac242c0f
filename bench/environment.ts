// What a result depends on besides the code: the machine and every tool's version.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export interface Environment {
  machine: { cpuModel: string; cores: number; memoryGb: number; kernel: string; os: string };
  versions: Record<string, string>;
  /** the mailferry source measured: commit, and whether the tree had uncommitted changes */
  mailferry: { version: string; commit: string; dirty: boolean };
}

export function describeEnvironment(): Environment {
  const osRelease = existsSync('/etc/os-release') ? /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] : undefined;
  const pkg = JSON.parse(readFileSync(`${REPO}/package.json`, 'utf8')) as { version: string };
  return {
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      kernel: release(),
      os: osRelease ?? 'unknown',
    },
    versions: {
      node: process.version,
      dovecot: output('dovecot', ['--version']),
      mbsync: output('mbsync', ['--version']),
      offlineimap: output('offlineimap', ['--version']),
    },
    mailferry: {
      version: pkg.version,
      commit: output('git', ['rev-parse', '--short', 'HEAD']),
      dirty: output('git', ['status', '--porcelain', '--', 'src']) !== '',
    },
  };
}

function output(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', cwd: REPO });
  return r.status === 0 ? r.stdout.trim() : 'not installed';
}

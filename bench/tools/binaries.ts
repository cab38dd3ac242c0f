// The programs the benchmark runs besides mailferry and Dovecot, and their Debian packages.
import { spawnSync } from 'node:child_process';

interface Binary {
  binary: string;
  debianPackage: string;
  /** without it nothing can be measured; the others are anchors, skipped when missing */
  required: boolean;
}

const BINARIES: Binary[] = [
  { binary: '/usr/bin/time', debianPackage: 'time', required: true }, // GNU time: peak RSS and CPU
  { binary: 'mbsync', debianPackage: 'isync', required: false },
  { binary: 'offlineimap', debianPackage: 'offlineimap3', required: false },
];

/** The skip reason for a program that is not installed, saying how to install it. */
export function missingBinary(binary: string, debianPackage: string): string | undefined {
  const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0 ? undefined : `${binary} not installed (apt-get install ${debianPackage})`;
}

/**
 * Installs what is missing with apt-get when running as root; otherwise says how. An anchor
 * still missing afterwards gets "skipped" rows, never a figure; a missing GNU time stops the run.
 */
export function installBinaries(log: (line: string) => void): void {
  const missing = BINARIES.filter((b) => missingBinary(b.binary, b.debianPackage) !== undefined);
  if (missing.length === 0) return;
  const packages = missing.map((b) => b.debianPackage);
  if (process.getuid?.() === 0) {
    log(`installing ${packages.join(' ')} with apt-get...`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update'], ['install', '-y', ...packages]]) {
      const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
      if (r.status !== 0) {
        log(`apt-get ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
        break;
      }
    }
  } else {
    log(`not root, so not installing: run  sudo apt-get install -y ${packages.join(' ')}`);
  }
  const stillRequired = BINARIES.filter((b) => b.required && missingBinary(b.binary, b.debianPackage) !== undefined);
  if (stillRequired.length > 0) throw new Error(`the benchmark needs ${stillRequired.map((b) => `${b.binary} (apt-get install ${b.debianPackage})`).join(', ')}`);
}

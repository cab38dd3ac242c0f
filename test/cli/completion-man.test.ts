import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OPTION_TABLES } from '../../src/cli/index.js';
import { MAIN, runCli } from '../support/cli.js';

// The script calls `mailferry` by name, as an installed one would.
const bin = mkdtempSync(join(tmpdir(), 'mailferry-completion-'));
symlinkSync(MAIN, join(bin, 'mailferry'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** What a real bash offers after sourcing `mailferry completion` for the words typed so far (the last one being completed). */
function bashCompletes(...words: string[]): string[] {
  const script = `source <(mailferry completion); COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mailferry_completions; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['-c', script, 'bash', 'mailferry', ...words], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '');
}

describe('mailferry completion', () => {
  it('completes a command name in bash', () => {
    expect(bashCompletes('mig')).toEqual(['migrate']);
  });

  it("completes a command's option in bash", () => {
    expect(bashCompletes('migrate', '--from-c')).toEqual(['--from-ca']);
  });

  it('offers every command', () => {
    expect(bashCompletes('').sort()).toEqual(Object.keys(OPTION_TABLES).sort());
  });

  it.each(Object.keys(OPTION_TABLES))('offers every option of %s', (command) => {
    const offered = bashCompletes(command, '--');
    expect(Object.keys(OPTION_TABLES[command]!).map((o) => `--${o}`).filter((o) => !offered.includes(o))).toEqual([]);
  });

  it('prints a zsh script with --shell zsh', async () => {
    const run = await runCli(['completion', '--shell', 'zsh']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^#compdef mailferry\n/);
    expect(run.stdout).toContain('compdef _mailferry_completions mailferry');
  });

  it('refuses a shell it has no script for, in one line', async () => {
    const run = await runCli(['completion', '--shell', 'fish']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('fish');
  });
});

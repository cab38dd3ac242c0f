import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OPTION_TABLES } from '../../src/cli/index.js';
import { EXIT_CODES } from '../../src/errors/exit-codes.js';
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

/**
 * What the zsh script hands to `_describe` for the words typed so far. `_describe` (zsh's own,
 * which filters and shows them) runs only inside a completion widget, so it is replaced by a
 * function that prints what it is given.
 */
function zshOffers(...words: string[]): string[] {
  const script = `source <(mailferry completion --shell zsh) 2>/dev/null; _describe() { print -l -- "\${(@P)2}"; }; words=("$@"); CURRENT=$#; _mailferry_completions`;
  const out = execFileSync('zsh', ['-c', script, 'zsh', 'mailferry', ...words], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
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

  it('offers zsh the commands and options with their descriptions', () => {
    expect(zshOffers('mig')).toContain('migrate:copy every folder and message of one IMAP account into another, exactly once, resumable');
    expect(zshOffers('migrate', '--from-c')).toContain(`--from-ca:${String(OPTION_TABLES.migrate!['from-ca']!.describe)}`);
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

describe('man/mailferry.1 (written by npm run build)', () => {
  // All warnings on; no hyphenation, so every option name stays whole; plain text (no bold or underline).
  const groff = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-rHY=0', '-P-cbou', new URL('../../man/mailferry.1', import.meta.url).pathname], { encoding: 'utf8' });
  const between = (from: string, to: string): string => groff.stdout.slice(groff.stdout.indexOf(`\n${from}\n`), groff.stdout.indexOf(`\n${to}\n`));
  /** Each command's subsection (indented three spaces), by command name, its lines joined. */
  const commands = new Map(
    between('COMMANDS', 'EXIT STATUS')
      .split(/^ {3}(?=\S)/m)
      .slice(1)
      .map((part) => [part.split(/\s/)[0]!, part.replace(/\s+/g, ' ')]),
  );

  it('renders without a warning', () => {
    expect(groff.error).toBeUndefined();
    expect(groff.status).toBe(0);
    expect(groff.stderr).toBe('');
    for (const title of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'EXIT STATUS', 'FILES', 'SEE ALSO']) expect(groff.stdout).toMatch(new RegExp(`^${title}$`, 'm'));
  });

  it.each(Object.keys(OPTION_TABLES))('lists %s with every option of its table', (command) => {
    const text = commands.get(command);
    expect(text).toBeDefined();
    const options = Object.keys(OPTION_TABLES[command]!).map((o) => `--${o}`);
    expect(options.filter((o) => !new RegExp(`${o}(?![a-z-])`).test(text!))).toEqual([]);
  });

  it('gives every exit status with its meaning', () => {
    const exits = between('EXIT STATUS', 'FILES').replace(/\s+/g, ' ');
    for (const c of Object.values(EXIT_CODES)) expect(exits).toContain(`${c.status} ${c.meaning}`);
  });
});

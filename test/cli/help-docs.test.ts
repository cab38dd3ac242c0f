import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/errors/exit-codes.js';
import { runCli } from '../support/cli.js';

const doc = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

/** Long options named in a --help text. */
function optionsIn(help: string): string[] {
  return [...new Set([...help.matchAll(/--([a-z][a-z0-9-]+)/g)].map((m) => m[1]!))].filter((o) => !['help', 'version'].includes(o));
}

describe('every option in --help is documented', () => {
  it.each([
    ['migrate', 'migrate.md'],
    ['sandbox', 'sandbox.md'],
    ['verify', 'verify.md'],
    ['folders', 'folders.md'],
    ['backup', 'backup.md'],
    ['restore', 'restore.md'],
    ['login', 'profiles.md'],
    ['ls', 'browse.md'],
    ['show', 'browse.md'],
    ['export', 'browse.md'],
    ['run', 'config.md'],
    ['bulk migrate', 'bulk.md'],
    ['bulk backup', 'bulk.md'],
    ['bulk status', 'bulk.md'],
    ['worker', 'bulk.md'],
  ])('mailferry %s --help agrees with docs/%s', async (command, file) => {
    const run = await runCli([...command.split(' '), '--help']);
    expect(run.code).toBe(0);
    const options = optionsIn(run.stdout);
    expect(options.length).toBeGreaterThan(2);
    const text = doc(file);
    expect(options.filter((o) => !text.includes(`--${o}`))).toEqual([]);
  });

  it('mailferry profiles --help agrees with docs/profiles.md', async () => {
    const run = await runCli(['profiles', '--help']);
    expect(run.code).toBe(0);
    const options = optionsIn(run.stdout);
    expect(options).toContain('profile-file');
    expect(options.filter((o) => !doc('profiles.md').includes(`--${o}`))).toEqual([]);
  });

  it('mailferry config --help agrees with docs/config.md', async () => {
    const run = await runCli(['config', '--help']);
    expect(run.code).toBe(0);
    const options = optionsIn(run.stdout);
    expect(options).toContain('config');
    expect(options.filter((o) => !doc('config.md').includes(`--${o}`))).toEqual([]);
  });

  it('mailferry completion --help agrees with docs/completion.md', async () => {
    const run = await runCli(['completion', '--help']);
    expect(run.code).toBe(0);
    const options = optionsIn(run.stdout);
    expect(options).toContain('shell');
    expect(options.filter((o) => !doc('completion.md').includes(`--${o}`))).toEqual([]);
  });

  it('mailferry check --help agrees with docs/browse.md', async () => {
    const run = await runCli(['check', '--help']);
    expect(run.code).toBe(0);
    const options = optionsIn(run.stdout);
    expect(options).toContain('json');
    expect(options.filter((o) => !doc('browse.md').includes(`--${o}`))).toEqual([]);
  });

  it.each(['verify', 'folders'])('mailferry %s --help says nothing of copying, which it never does', async (command) => {
    const run = await runCli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/\bcop(y|ies|ied|ying)\b/i);
  });

  it('docs/exit-codes.md lists the exit-code table exactly', async () => {
    const text = doc('exit-codes.md');
    for (const c of Object.values(EXIT_CODES)) expect(text).toContain(`| ${c.status} | ${c.meaning} |`);
    const help = await runCli(['--help']);
    for (const c of Object.values(EXIT_CODES)) expect(help.stdout).toContain(c.meaning);
  });
});

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePassword } from '../../src/config/secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'mf-secrets-'));
const base = { envVar: 'MF_TEST_PW', option: '--from' };
const warnings: string[] = [];
const warn = (m: string): void => void warnings.push(m);

describe('resolvePassword', () => {
  it('prefers the environment, and removes the variable once read', async () => {
    const env: NodeJS.ProcessEnv = { MF_TEST_PW: 'from-env' };
    expect(await resolvePassword({ ...base, command: 'echo nope' }, env, warn)).toBe('from-env');
    expect(env.MF_TEST_PW).toBeUndefined();
  });
  it('reads a 0600 file and refuses a readable one', async () => {
    const f = join(dir, 'pw');
    writeFileSync(f, 'from-file\n');
    chmodSync(f, 0o600);
    expect(await resolvePassword({ ...base, file: f }, {}, warn)).toBe('from-file');
    chmodSync(f, 0o644);
    await expect(resolvePassword({ ...base, file: f }, {}, warn)).rejects.toThrow(/mode 644/);
  });
  it('runs a command and trims its output', async () => {
    expect(await resolvePassword({ ...base, command: 'printf " pw \\n"' }, {}, warn)).toBe('pw');
    await expect(resolvePassword({ ...base, command: 'exit 3' }, {}, warn)).rejects.toThrow(/failed \(exit 3\)/);
  });
  it('warns about a password in the URL', async () => {
    expect(await resolvePassword({ ...base, inUrl: 'u' }, {}, warn)).toBe('u');
    expect(warnings.join()).toMatch(/process list/);
  });
  it('fails with a usage error when there is no source and no terminal', async () => {
    await expect(resolvePassword(base, {}, warn)).rejects.toMatchObject({ kind: 'usage' });
  });
});

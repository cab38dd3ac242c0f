import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkSecrets } from '../../src/bulk/secrets/bulk-secrets.js';
import { fillTemplate, parseCommandTemplate, splitWords } from '../../src/bulk/secrets/command-template.js';
import type { BulkAccount } from '../../src/bulk/bulk-account.js';
import { UsageError } from '../../src/errors/errors.js';

const OPT = '--from-password-command';
const usage = (message: string) => new UsageError(message);

describe('the word splitter (once, from the template alone)', () => {
  it('splits on blanks and takes quotes and backslashes as a POSIX shell does for plain words', () => {
    expect(splitWords(`pass show  mail/{user}`, OPT)).toEqual(['pass', 'show', 'mail/{user}']);
    expect(splitWords(`get 'a b' "c d" e\\ f '' "x\\"y\\\\z" 'it'"'"'s'`, OPT)).toEqual(['get', 'a b', 'c d', 'e f', '', 'x"y\\z', "it's"]);
    expect(splitWords(`'a;b|c' "d&e>f"`, OPT)).toEqual(['a;b|c', 'd&e>f']);
  });

  it('refuses what only a shell would understand, and unterminated quotes', () => {
    expect(() => splitWords('pass show x | head -1', OPT)).toThrow(usage(`${OPT}: | needs a shell and none runs; quote it, or run sh -c 'SCRIPT' sh {user} and use "$1" in SCRIPT`));
    expect(() => splitWords('cat $HOME/pw', OPT)).toThrow(/^--from-password-command: \$ needs a shell/);
    expect(() => splitWords('cat "$HOME/pw"', OPT)).toThrow(/^--from-password-command: \$ needs a shell/);
    expect(() => splitWords('echo `id`', OPT)).toThrow(/^--from-password-command: ` needs a shell/);
    expect(() => splitWords('a; b', OPT)).toThrow(/^--from-password-command: ; needs a shell/);
    expect(() => splitWords("pass 'show", OPT)).toThrow(usage(`${OPT}: unterminated ' in the command`));
    expect(() => splitWords('pass "show', OPT)).toThrow(usage(`${OPT}: unterminated " in the command`));
  });

  it('knows {user}, {host} and {id}, and never lets a row choose the program', () => {
    expect([...parseCommandTemplate('lookup {host}:{user} --id={id}', OPT).uses].sort()).toEqual(['host', 'id', 'user']);
    expect(() => parseCommandTemplate('pass show {email}', OPT)).toThrow(usage(`${OPT}: unknown placeholder {email}; there are {user}, {host}, {id}`));
    expect(() => parseCommandTemplate('{user}', OPT)).toThrow(usage(`${OPT}: the program (the first word) cannot hold a placeholder`));
    expect(() => parseCommandTemplate('  ', OPT)).toThrow(usage(`${OPT}: the command is empty`));
  });
});

describe('substitution: a row value stays one argument of its word', () => {
  const template = parseCommandTemplate(`pass show 'mail/{user}' {id}`, OPT);

  it('puts any value inside its word, whatever it holds', () => {
    const user = `a b'c"d;e$(f)\`g\``;
    expect(fillTemplate(template, { user, id: '7' }, OPT, 'row 2')).toEqual(['pass', 'show', `mail/${user}`, '7']);
  });

  it('refuses a value that is missing, holds NUL, or would turn a word into an option', () => {
    expect(() => fillTemplate(template, { user: 'a' }, OPT, 'the row at l.csv:3')).toThrow(usage(`${OPT} uses {id}, which the row at l.csv:3 does not give`));
    expect(() => fillTemplate(template, { user: 'a\0b', id: '1' }, OPT, 'row 3')).toThrow(usage(`${OPT}: the {user} of row 3 holds a NUL character`));
    expect(() => fillTemplate(template, { user: 'a', id: '--output=/tmp/x' }, OPT, 'row 4')).toThrow(/would start the argument "\{id\}" with '-'/);
  });
});

describe('a password command template run for accounts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mf-template-'));
  const canary = join(dir, 'canary');
  // What a shell would run, hidden in logins: each creates the canary when a shell sees it.
  const hostile = [`x; touch ${canary}`, `$(touch ${canary})`, `\`touch ${canary}\``, `a b 'c' "d" && touch ${canary}`];
  /** Prints its arguments as JSON: the "password" shows exactly what the program was given. */
  const template = `'${process.execPath}' -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' 'mail/{user}' {host} {id}`;
  const account = (user: string, id?: string): BulkAccount => ({
    key: user,
    id,
    origin: { file: 'list.csv', line: 2 },
    from: `imap://${encodeURIComponent(user)}@imap.example.org`,
    to: 'imap://dest@127.0.0.1',
    options: {},
  });
  const noFallback = { signIn: async () => ({}) };

  it('a shell given these logins would create the canary (the check below can fail)', () => {
    for (const user of hostile) {
      rmSync(canary, { force: true });
      execFileSync('/bin/sh', ['-c', `echo mail/${user}`], { stdio: 'ignore' });
      expect(existsSync(canary), user).toBe(true);
    }
    rmSync(canary, { force: true });
  });

  it('gives the program each login as one argument and runs nothing else', async () => {
    const secrets = bulkSecrets({ 'from-password-command': template }, noFallback);
    for (const [n, user] of hostile.entries()) {
      const spec = await secrets.signIn(account(user, `id ${n}`), 'from');
      expect(JSON.parse(spec.password!)).toEqual([`mail/${user}`, 'imap.example.org', `id ${n}`]);
    }
    expect(existsSync(canary)).toBe(false);
  });

  it('replaces the fallback password of its side only, and keeps the fallback authzid', async () => {
    const fallback = { signIn: async () => ({ passwordCommand: 'echo fallback', passwordFile: '/x', authzid: 'alice' }) };
    const secrets = bulkSecrets({ 'from-password-command': `echo pw-{user}` }, fallback);
    expect(await secrets.signIn(account('admin'), 'from')).toEqual({ password: 'pw-admin', passwordCommand: undefined, passwordFile: undefined, authzid: 'alice' });
    expect(await secrets.signIn(account('admin'), 'to')).toEqual({ passwordCommand: 'echo fallback', passwordFile: '/x', authzid: 'alice' });
  });

  it("does not hand the run's password variables to the command", async () => {
    const secrets = bulkSecrets({ 'from-password-command': `'${process.execPath}' -e 'process.stdout.write(JSON.stringify([process.env.MAILFERRY_TO_PASSWORD, process.env.HOME]))' {user}` }, noFallback);
    process.env.MAILFERRY_TO_PASSWORD = 'to-pw-Canary';
    try {
      expect(JSON.parse((await secrets.signIn(account('bob'), 'from')).password!)).toEqual([null, process.env.HOME]);
    } finally {
      delete process.env.MAILFERRY_TO_PASSWORD;
    }
  });

  it('a failing, missing or silent command is one line, without its stderr', async () => {
    const failing = bulkSecrets({ 'from-password-command': `'${process.execPath}' -e 'console.error("secret context"); process.exit(3)' {user}` }, noFallback);
    await expect(failing.signIn(account('bob'), 'from')).rejects.toThrow(usage(`${OPT}: the command failed (exit 3)`));
    const missing = bulkSecrets({ 'from-password-command': `/nonexistent/pass show {user}` }, noFallback);
    await expect(missing.signIn(account('bob'), 'from')).rejects.toThrow(usage(`${OPT}: cannot run /nonexistent/pass: not found`));
    const silent = bulkSecrets({ 'from-password-command': `true {user}` }, noFallback);
    await expect(silent.signIn(account('bob'), 'from')).rejects.toThrow(usage(`${OPT}: the command printed nothing`));
    const lines = bulkSecrets({ 'from-password-command': `printf 'pw\\nurl: x\\n' {user}` }, noFallback);
    await expect(lines.signIn(account('bob'), 'from')).rejects.toThrow(/the command printed several lines; a password is one/);
  });
});

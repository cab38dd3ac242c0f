import { describe, expect, it } from 'vitest';
import { argvFromOptions, apiOptionNames } from '../../src/api/option-table.js';
import type { BackupOptions, ListFoldersOptions, MigrateOptions, RestoreOptions, VerifyOptions } from '../../src/api/options.js';
import { backupOptions } from '../../src/cli/commands/backup.js';
import { foldersOptions } from '../../src/cli/commands/folders.js';
import { migrateOptions } from '../../src/cli/commands/migrate.js';
import { restoreOptions } from '../../src/cli/commands/restore.js';
import { verifyOptions } from '../../src/cli/commands/verify.js';
import { InterruptedError, UsageError } from '../../src/errors/errors.js';
import { backup, listFolders, migrate, verify } from '../../src/index.js';

/** Every key of an options type, listed: the compiler refuses a missing or an extra one. */
type Keys<T> = Record<keyof T, true>;

const call = { log: true, debug: true, signal: true } as const;
const from = {
  from: true, fromPassword: true, fromPasswordEnv: true, fromPasswordFile: true, fromPasswordCommand: true, fromCa: true,
  fromProfile: true, fromOauth2TokenCommand: true, fromOauth2: true, fromAuthzid: true, gmailLabels: true,
} as const;
const to = {
  to: true, toPassword: true, toPasswordEnv: true, toPasswordFile: true, toPasswordCommand: true, toCa: true,
  toProfile: true, toOauth2TokenCommand: true, toOauth2: true, toAuthzid: true,
} as const;
const folders = { folder: true, exclude: true, map: true } as const;
const messages = { since: true, before: true, maxSize: true, minSize: true } as const;
const search = { search: true, gmailSearch: true } as const;
const connection = { connections: true, insecureTls: true, allowPlaintext: true, timeout: true, profileFile: true } as const;
const rates = { maxBytesPerSecond: true, maxMessagesPerSecond: true } as const;

const migrateKeys: Keys<MigrateOptions> = {
  ...call, ...from, ...to, ...folders, ...messages, ...search, ...connection, ...rates,
  dailyLimitDown: true, dailyLimitUp: true, syncFlags: true, oversizeDir: true, verify: true, propagateDeletes: true, errorsMax: true, recursive: true, into: true, state: true, allowConcurrent: true, dryRun: true,
};
const backupKeys: Keys<BackupOptions> = {
  ...call, ...from, ...folders, ...messages, ...search, ...connection, ...rates,
  to: true, format: true, layout: true, archive: true, keep: true, mirror: true, dailyLimitDown: true, dryRun: true,
};
const restoreKeys: Keys<RestoreOptions> = {
  ...call, ...to, ...folders, ...messages, ...connection, ...rates,
  from: true, recursive: true, into: true, verify: true, errorsMax: true, dailyLimitUp: true, state: true, allowConcurrent: true, dryRun: true,
};
const verifyKeys: Keys<VerifyOptions> = { ...call, ...from, ...to, ...folders, ...connection, quick: true };
const listKeys: Keys<ListFoldersOptions> = { ...call, ...from, ...to, ...folders, ...connection };

/** Keys the API has that no command-line option is: passwords as values or variable names, a log, a signal. */
const API_ONLY = new Set(['log', 'signal', 'fromPassword', 'fromPasswordEnv', 'toPassword', 'toPasswordEnv']);

describe('the library API takes the command-line options, camel-cased', () => {
  it.each([
    ['migrate', migrateKeys, migrateOptions],
    ['backup', backupKeys, backupOptions],
    ['restore', restoreKeys, restoreOptions],
    ['verify', verifyKeys, verifyOptions],
    ['folders', listKeys, foldersOptions],
  ])('%s: the option type names exactly the options of the command, but the printing ones (--json, --quiet, --log-file, --just-folders, --check-login)', (_command, keys, table) => {
    const typed = Object.keys(keys).filter((k) => !API_ONLY.has(k)).sort();
    expect(typed).toEqual(apiOptionNames(table).sort());
  });
});

describe('bulk is a command-line tool for now', () => {
  it('the library exports nothing of it, so no bulk option table has an API type to agree with', async () => {
    const api = Object.keys(await import('../../src/index.js'));
    expect(api.filter((name) => /bulk|campaign/i.test(name))).toEqual([]);
  });
});

describe('argvFromOptions checks options as the command line does', () => {
  const base = { from: 'imap://a@h', to: 'imap://b@h' };

  it("fills in the command's defaults and spells the options as yargs does", () => {
    const argv = argvFromOptions('migrate', migrateOptions, { ...base, maxSize: 10, folder: ['INBOX'] }, []);
    expect(argv).toMatchObject({ connections: 4, timeout: 120, 'sync-flags': true, 'gmail-labels': 'auto', 'dry-run': false, 'max-size': 10, folder: ['INBOX'] });
    expect(argv).not.toHaveProperty('maxSize');
  });

  it.each([
    [{ to: 'imap://b@h' }, 'migrate: option from is required'],
    [{ ...base, conections: 2 }, 'migrate: unknown option conections'],
    [{ ...base, connections: '2' }, 'migrate: option connections: expected a number'],
    [{ ...base, folder: 'INBOX' }, 'migrate: option folder: expected an array, each a string'],
    [{ ...base, gmailLabels: 'all' }, 'migrate: option gmailLabels: expected one of auto, folders, keywords, labels'],
    [{ ...base, json: true }, 'migrate: unknown option json'],
  ])('%o is refused: %s', (options, message) => {
    expect(() => argvFromOptions('migrate', migrateOptions, options, [])).toThrow(new UsageError(message));
  });

  it('leaves the keys the API itself reads to the caller', () => {
    expect(argvFromOptions('migrate', migrateOptions, { ...base, signal: undefined }, ['signal'])).not.toHaveProperty('signal');
  });
});

describe('a call refuses what it cannot use before it connects to anything', () => {
  const sides = { from: 'imap://a@127.0.0.1:1', to: 'imap://b@127.0.0.1:1', fromPassword: 'x', toPassword: 'y' };

  it.each([
    ['no options', () => backup(undefined as unknown as BackupOptions), 'backup: expected an object of options'],
    ['a signal that is no AbortSignal', () => migrate({ ...sides, signal: 'stop' as unknown as AbortSignal }), 'migrate: option signal: expected an AbortSignal'],
    ['a log that is no function', () => migrate({ ...sides, log: 'stderr' as unknown as () => void }), 'migrate: option log: expected a function'],
    ['a password for a side that is a directory', () => backup({ from: sides.from, to: '/tmp/backup', toPassword: 'y' } as BackupOptions), 'backup: unknown option toPassword'],
    ['an unset password variable', () => verify({ ...sides, fromPassword: undefined, fromPasswordEnv: 'MAILFERRY_TEST_UNSET' }), 'verify: option fromPasswordEnv: $MAILFERRY_TEST_UNSET is not set'],
  ])('%s: UsageError', async (_what, start, message) => {
    await expect(start()).rejects.toThrow(new UsageError(message));
  });

  it('an already aborted signal: InterruptedError, exit code 130', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await listFolders({ from: sides.from, fromPassword: 'x', signal: controller.signal }).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).exitCode).toBe(130);
  });
});

import * as fs from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors/errors.js';
import { exitStatus } from '../../errors/exit-codes.js';
import { counted } from '../../reporting/plural.js';
import type { CliContext } from '../context.js';
import { browseSource, type BrowseArgs } from './browse-options.js';

export const checkOptions = {
  json: { type: 'boolean', default: false, group: 'Run:', describe: 'print the result as JSON' },
} as const;

type CheckArgs = BrowseArgs & { json: boolean };

export function checkCommand(ctx: CliContext): CommandModule {
  return {
    command: 'check <source>',
    describe: 'read every message of a backup (directory, .tar.gz or .zip) and report missing, altered or unindexed ones; exit 1 when any',
    builder: (y: Argv) => y.positional('source', { type: 'string', describe: 'a backup directory, or a .tar.gz or .zip of one' }).options(checkOptions),
    handler: async (raw) => {
      const argv = raw as unknown as CheckArgs;
      if (/^imaps?:\/\//i.test(argv.source)) throw new UsageError('check reads a backup (a directory, .tar.gz or .zip), not an account: verify compares an account with a backup');
      const { checkBackup } = await import('../../jobs/browse/checking.js');
      const { readArchiveRecords, readBackupRecords } = await import('../../jobs/browse/backup-records.js');
      const isDir = (await fs.stat(argv.source).catch(() => undefined))?.isDirectory() ?? false;
      const store = await browseSource({ ...argv, 'insecure-tls': false, 'allow-plaintext': false, timeout: 120, debug: false }, ctx);
      const result = await checkBackup(store, isDir ? readBackupRecords(argv.source) : await readArchiveRecords(argv.source));
      ctx.exitStatus = exitStatus(result.problems.length === 0 ? 'ok' : 'partial');
      if (argv.json) return ctx.out(JSON.stringify(result, null, 2));
      const lines = result.problems.map((p) => `${p.kind.toUpperCase()}  ${p.folder}  UID ${p.uid}: ${p.detail}`);
      const how = result.checkpoint ? 'against the checkpoint\'s SHA-256 and the store\'s records' : 'against the store\'s records (no checkpoint here)';
      lines.push(`${result.problems.length === 0 ? 'GOOD' : 'DAMAGED'}: ${counted(result.messages, 'message')} in ${counted(result.folders, 'folder')} of ${result.backup} read, ${how}; ${counted(result.problems.length, 'problem')}`);
      ctx.out(lines.join('\n'));
    },
  };
}

import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors/errors.js';
import { counted } from '../../reporting/plural.js';
import type { CliContext } from '../context.js';
import { positiveInt } from '../options.js';
import { browseSource, browseSourceOptions, type BrowseArgs, browseSourcePositional } from './browse-options.js';
import { sizeText, tableText } from './table-text.js';

export const lsOptions = {
  ...browseSourceOptions,
  limit: { type: 'number', group: 'Listing:', describe: 'list only the newest N messages (highest UIDs) of FOLDER; default: all, read in pages' },
  search: { type: 'string', group: 'Listing:', describe: "an account SOURCE only: list only FOLDER's messages matching these IMAP SEARCH criteria, sent as written in a UID SEARCH, e.g. 'FROM alice SINCE 1-Jan-2024'" },
  json: { type: 'boolean', default: false, group: 'Run:', describe: 'print the listing as JSON' },
} as const;

type LsArgs = BrowseArgs & { limit?: number; search?: string; json: boolean };

export function lsCommand(ctx: CliContext): CommandModule {
  return {
    command: 'ls <source> [folder]',
    describe: 'list the folders of a backup, local mail or an account, or one folder\'s messages (headers only)',
    builder: (y: Argv) =>
      y
        .positional('source', browseSourcePositional)
        .positional('folder', { type: 'string', describe: 'list this folder\'s messages, newest first' })
        .options(lsOptions),
    handler: async (raw) => {
      const argv = raw as unknown as LsArgs;
      const limit = argv.limit === undefined ? undefined : positiveInt(argv.limit, 'limit');
      const store = await browseSource(argv, ctx, argv.folder);
      if (argv.folder === undefined) {
        if (argv.search !== undefined) throw new UsageError('--search needs a FOLDER');
        const { listFolderSizes } = await import('../../jobs/browse/listing.js');
        const listing = await listFolderSizes(store);
        if (argv.json) return ctx.out(JSON.stringify(listing, null, 2));
        const rows = [['folder', 'messages', 'size'], ...listing.folders.map((f) => [f.name, String(f.messages), sizeText(f.bytes)])];
        const total = listing.folders.reduce((a, f) => a + f.messages, 0);
        return ctx.out([...tableText(rows), `${counted(listing.folders.length, 'folder')}, ${counted(total, 'message')} at ${listing.source}`].join('\n'));
      }
      const { listMessages } = await import('../../jobs/browse/listing.js');
      const listing = await listMessages(store, argv.folder, limit, argv.search);
      if (argv.json) return ctx.out(JSON.stringify(listing, null, 2));
      const rows = [['uid', 'date', 'from', 'subject', 'size', 'flags'], ...listing.messages.map((m) => [String(m.uid), m.date, m.from, m.subject, String(m.size), m.flags.join(' ')])];
      const shown = listing.messages.length < listing.total ? `the newest ${listing.messages.length} of ` : '';
      ctx.out([...tableText(rows), `${shown}${counted(listing.total, 'message')} in ${listing.folder} at ${listing.source}`].join('\n'));
    },
  };
}

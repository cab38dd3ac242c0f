import type { Argv, CommandModule } from 'yargs';
import { counted } from '../../reporting/plural.js';
import type { CliContext } from '../context.js';
import { browseSource, browseSourceOptions, uidArg, type BrowseArgs, browseSourcePositional } from './browse-options.js';

export const exportOptions = {
  ...browseSourceOptions,
  to: { type: 'string', demandOption: true, group: 'Message:', describe: 'write the files into this directory (created if missing)' },
  part: { type: 'string', group: 'Message:', describe: 'write only this part of each message, decoded, under its own file name (made safe: no directory, no control characters)' },
} as const;

type ExportArgs = BrowseArgs & { folder: string; uids: Array<string | number>; to: string; part?: string };

export function exportCommand(ctx: CliContext): CommandModule {
  return {
    command: 'export <source> <folder> <uids..>',
    describe: 'write messages as FOLDER-UID.eml files with their exact bytes (mode 0600), or one part of each',
    builder: (y: Argv) =>
      y
        .positional('source', browseSourcePositional)
        .positional('folder', { type: 'string', describe: 'the folder, as ls lists it' })
        .positional('uids', { type: 'string', array: true, describe: 'UIDs of the messages, as ls lists them' })
        .options(exportOptions),
    handler: async (raw) => {
      const argv = raw as unknown as ExportArgs;
      const uids = argv.uids.map(uidArg);
      const store = await browseSource(argv, ctx, argv.folder);
      const { exportMessages } = await import('../../jobs/browse/exporting.js');
      const written = await exportMessages({ store, folder: argv.folder, uids, dir: argv.to, part: argv.part });
      ctx.out([...written, `${counted(written.length, 'file')} written`].join('\n'));
    },
  };
}

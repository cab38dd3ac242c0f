import type { Argv, CommandModule } from 'yargs';
import type { CliContext } from '../context.js';
import { browseSource, browseSourceOptions, uidArg, type BrowseArgs, browseSourcePositional } from './browse-options.js';
import { tableText } from './table-text.js';

export const showOptions = {
  ...browseSourceOptions,
  part: { type: 'string', group: 'Message:', describe: 'print only this part (its number as show lists it, e.g. 2 or 1.2), decoded' },
  raw: { type: 'boolean', default: false, group: 'Message:', describe: 'print exact bytes: the whole message, or with --part that part as stored (still encoded)' },
  json: { type: 'boolean', default: false, group: 'Run:', describe: 'print headers, text and parts as JSON' },
} as const;

type ShowArgs = BrowseArgs & { folder: string; uid: number; part?: string; raw: boolean; json: boolean };

/** Header fields `show` prints, in this order. */
const SHOWN = ['date', 'from', 'to', 'cc', 'subject', 'message-id'];

export function showCommand(ctx: CliContext): CommandModule {
  return {
    command: 'show <source> <folder> <uid>',
    describe: 'print a message\'s headers, its text and a list of its other parts, or one part, or its exact bytes; never marks it read',
    builder: (y: Argv) =>
      y
        .positional('source', browseSourcePositional)
        .positional('folder', { type: 'string', describe: 'the folder, as ls lists it' })
        .positional('uid', { type: 'string', describe: 'the message\'s UID, as ls lists it' })
        .options(showOptions),
    handler: async (raw) => {
      const argv = raw as unknown as ShowArgs;
      const uid = uidArg(argv.uid);
      const store = await browseSource(argv, ctx, argv.folder);
      const jobs = await import('../../jobs/browse/showing.js');
      if (argv.part !== undefined) {
        const { bytes } = await jobs.messagePart(store, argv.folder, uid, argv.part, argv.raw);
        process.stdout.write(bytes);
        return;
      }
      if (argv.raw) {
        process.stdout.write(await jobs.wholeMessage(store, argv.folder, uid));
        return;
      }
      const shown = await jobs.showMessage(store, argv.folder, uid);
      if (argv.json) return ctx.out(JSON.stringify(shown, null, 2));
      const headers = SHOWN.flatMap((name) => shown.headers.filter(([n]) => n === name).map(([n, v]) => `${n.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase())}: ${v}`));
      const others = shown.parts.filter((p) => p.part !== shown.text?.part);
      const parts = others.length === 0 ? [] : ['', ...tableText([['part', 'type', 'name', 'size'], ...others.map((p) => [p.part, p.type, p.name ?? '', String(p.size)])])];
      ctx.out([...headers, '', shown.text?.content.trimEnd() ?? '(no text part)', ...parts].join('\n'));
    },
  };
}

import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors/errors.js';
import type { FolderListing, FoldersRequest } from '../../jobs/folders.js';
import { displayWidth, padToWidth } from '../../reporting/display-width.js';
import type { JobIo } from '../job-io.js';
import { stripControl } from '../../reporting/logger.js';
import { counted } from '../../reporting/plural.js';
import type { CliContext } from '../context.js';
import { connectionPolicy } from '../connection-policy.js';
import { accountOptions, connectionOptions, parseSelection, positiveInt, gmailLabelsViewOption, profileFileOption, selectionOptions, signInOptions } from '../options.js';
import { readableSideOption } from '../side-options.js';
import { profiledSides, type SideArgs } from './side-args.js';

const { to: _to, ...toOptional } = accountOptions('to', 'destination');

export const foldersOptions = {
  ...accountOptions('from', 'source'),
  ...readableSideOption('from', 'source'),
  ...signInOptions('from'),
  ...gmailLabelsViewOption,
  to: { type: 'string', group: 'Destination:', describe: 'also show where each folder would go at this destination (an account URL, or a path as for --from), with its counts' },
  ...toOptional,
  ...signInOptions('to'),
  ...selectionOptions,
  // The shared descriptions say "copy"; this command copies nothing.
  folder: { ...selectionOptions.folder, describe: 'list only this source folder (repeatable)' },
  map: { ...selectionOptions.map, describe: "show source folder SRC going to destination folder DEST, written 'SRC=DEST' with / between levels (repeatable)" },
  ...connectionOptions,
  connections: { ...connectionOptions.connections, describe: 'connections per account; folders are read this many at a time' },
  ...profileFileOption,
  json: { type: 'boolean', default: false, group: 'Run:', describe: 'print the listing as JSON' },
  debug: { type: 'boolean', default: false, group: 'Run:', describe: 'log the IMAP conversation (passwords redacted)' },
} as const;

export type FoldersArgs = Omit<SideArgs, 'to'> & { to?: string; json: boolean; debug: boolean; connections: number; timeout: number; folder?: string[]; exclude?: string[]; map?: string[] };

export function foldersCommand(ctx: CliContext): CommandModule {
  return {
    command: 'folders',
    describe: 'list folders with special-use, message count and size; with --to, the mapping migrate would use',
    builder: (y: Argv) => y.options(foldersOptions),
    handler: async (raw) => {
      const { listFolders } = await import('../../jobs/folders.js');
      const argv = raw as unknown as FoldersArgs;
      ctx.debug = argv.debug;
      const listing = await listFolders(await foldersRequest(argv, ctx));
      ctx.out(argv.json ? JSON.stringify(listing, null, 2) : foldersText(listing));
    },
  };
}

/** The listing as these options ask for it, the sides opened; the library API builds it the same way. */
export async function foldersRequest(argv: FoldersArgs, io: Omit<JobIo, 'emit'>): Promise<FoldersRequest> {
  const { openSide } = await import('../../jobs/open-side.js');
  if (!argv.to && (argv.map?.length || argv.folder?.length || argv.exclude?.length)) throw new UsageError('--folder, --exclude and --map need --to');
  // Without --to nothing is mapped or left out: every folder is listed, so nothing to tell.
  const { specs, run } = profiledSides(
    { ...argv, to: argv.to ?? '' },
    { connections: positiveInt(argv.connections, 'connections'), selection: parseSelection(argv) },
    (line) => {
      if (argv.to) io.logger.info(line);
    },
  );
  const policy = connectionPolicy(argv, run.connections, io);
  const source = await openSide('source', specs.source, policy, io.logger, run.selection);
  const dest = argv.to ? await openSide('dest', specs.dest, policy, io.logger) : undefined;
  return { source, dest, selection: run.selection, connections: policy.connections, signal: io.signal };
}

function foldersText(l: FolderListing): string {
  const rows: string[][] = [];
  if (l.destination) {
    rows.push(['source folder', 'use', 'messages', 'size', '', 'destination folder', 'messages', 'size']);
    for (const f of l.folders) {
      const d = f.destination!;
      rows.push([f.name, f.specialUse ?? '', String(f.messages), mb(f.bytes), '->', d.exists ? d.name : `${d.name} (to create)`, d.exists ? String(d.messages) : '-', d.exists ? mb(d.bytes) : '-']);
    }
  } else {
    rows.push(['folder', 'use', 'subscribed', 'messages', 'size']);
    for (const f of l.folders) rows.push([f.name, f.specialUse ?? '', f.subscribed ? 'yes' : 'no', String(f.messages), mb(f.bytes)]);
  }
  const cells = rows.map((r) => r.map(stripControl));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => displayWidth(r[i]!))));
  const lines = cells.map((r) => r.map((c, i) => padToWidth(c, widths[i]!)).join('  ').trimEnd());
  const total = l.folders.reduce((a, f) => a + f.messages, 0);
  lines.push(`${counted(l.folders.length, 'folder')}, ${counted(total, 'message')} at ${l.source}${l.destination ? `; destination ${l.destination}` : ''}`);
  return lines.join('\n');
}

function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

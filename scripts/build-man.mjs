// Writes man/mailferry.1 from the commands and option tables --help shows (dist/cli/index.js,
// compiled by tsc) and the exit-code table, so the man page cannot drift from the program.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { COMMANDS, OPTION_TABLES } from '../dist/cli/index.js';
import { bulkSubcommands } from '../dist/cli/commands/bulk.js';
import { BULK_TABLES } from '../dist/cli/commands/bulk-options.js';
import { EXIT_CODES } from '../dist/errors/exit-codes.js';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

/** Text safe in troff: backslashes and hyphens escaped, no line taken for a request. */
const roff = (text) => String(text).replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^[.']/gm, '\\&$&');

function optionLine(name, option) {
  const value = option.type === 'boolean' || option.count ? '' : ` \\fI${roff(option.choices ? option.choices.join('|') : option.type === 'number' ? 'N' : 'VALUE')}\\fR`;
  const aliases = [option.alias ?? []].flat().map((a) => `, \\fB${a.length === 1 ? '-' : '--'}${roff(a)}\\fR`).join('');
  const byDefault = option.default !== undefined && option.default !== false ? ` (default: ${roff(JSON.stringify(option.default))})` : '';
  return `.TP\n\\fB\\-\\-${roff(name)}\\fR${aliases}${value}\n${roff(option.describe ?? option.description ?? '')}${byDefault}`;
}

function commandSection(module, tables = OPTION_TABLES, parent = '') {
  const usage = String(module.command);
  const name = usage.split(' ')[0];
  const options = Object.entries(tables[name] ?? {}).filter(([, o]) => !o.hidden);
  const section = [`.SS ${roff(parent + usage)}`, roff(module.describe), ...options.map(([n, o]) => optionLine(n, o))].join('\n');
  // bulk's options are its subcommands'.
  return name === 'bulk' ? [section, ...bulkSubcommands({}).map((sub) => commandSection(sub, BULK_TABLES, 'bulk '))].join('\n') : section;
}

const page = [
  `.TH MAILFERRY 1 "" "mailferry ${version}" "User Commands"`,
  '.SH NAME',
  'mailferry \\- move, back up and restore email over IMAP: exactly once, resumable',
  '.SH SYNOPSIS',
  '.B mailferry',
  '.I command',
  '[\\fIoptions\\fR]',
  '.SH DESCRIPTION',
  'mailferry copies every message of an IMAP account exactly once, with its flags, keywords and INTERNALDATE, into another account, a Maildir or mbox backup, or back from one; a run cut short, even by kill \\-9, resumes where it stopped.',
  'Passwords come from $MAILFERRY_FROM_PASSWORD / $MAILFERRY_TO_PASSWORD, a \\-\\-*\\-password\\-file or \\-\\-*\\-password\\-command, or a prompt; never from an option.',
  '.SH COMMANDS',
  ...COMMANDS.map((c) => commandSection(c({}))),
  '.SH EXIT STATUS',
  ...Object.values(EXIT_CODES).map((c) => `.TP\n.B ${c.status}\n${roff(c.meaning)}`),
  '.SH FILES',
  '.TP',
  '.I $XDG_STATE_HOME/mailferry/',
  'checkpoints (by default; see \\-\\-state): what each run has done, so a rerun resumes (~/.local/state/mailferry/ without XDG_STATE_HOME)',
  '.TP',
  '.I $XDG_CONFIG_HOME/mailferry/config.yaml',
  'the job file of \\fBmailferry run\\fR and \\fBmailferry config\\fR (~/.config/mailferry/config.yaml without XDG_CONFIG_HOME)',
  '.SH SEE ALSO',
  '\\fBmailferry \\fIcommand\\fB \\-\\-help\\fR, and the guides in the package\'s docs/ directory (docs/migrate.md, docs/backup.md, docs/exit\\-codes.md and others).',
  '',
].join('\n');

mkdirSync('man', { recursive: true });
writeFileSync('man/mailferry.1', page);

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ancestorWriteError } from '../ancestor-write-error.js';
import { archiveBackup } from '../archive/archive-backup.js';
import { planArchive } from '../archive/archive-pattern.js';
import type { EmitEvent } from '../engine/events.js';
import type { TrafficLimits } from '../engine/traffic.js';
import type { MessageFilter } from '../engine/filters.js';
import type { FolderSelection } from '../engine/folder-map.js';
import { UsageError } from '../errors/errors.js';
import type { StderrLogger } from '../reporting/logger.js';
import { removeAtomicLeftovers } from '../stores/local/atomic-leftovers.js';
import type { MaildirLayout } from '../stores/local/folder-path.js';
import { isManifestTemporary, MANIFEST_FILE, ManifestFile, type BackupFormat } from '../stores/local/manifest.js';
import { fileFailure } from '../stores/local/local-errors.js';
import { DIR_MODE, ensureDir } from '../stores/local/safe-fs.js';
import { MaildirStore } from '../stores/maildir/maildir-store.js';
import { SealFile } from '../stores/maildir/seal-file.js';
import { MboxStore } from '../stores/mbox/mbox-store.js';
import { runCopyJob } from './copy-job.js';
import { imapStoreFor, type ConnectionPolicy, type ImapSideSpec } from './imap-side.js';
import type { JobResult } from './job-result.js';
import { mirrorDeletions } from './mirror.js';
import { matchAccount } from './same-account.js';

export interface BackupRequest {
  account: ImapSideSpec;
  policy: ConnectionPolicy;
  /** The backup directory. */
  dir: string;
  /** For a new backup; an existing one keeps what its manifest says. */
  format?: BackupFormat;
  layout?: MaildirLayout;
  /** `--archive` pattern. */
  archive?: string;
  keep?: number;
  mirror: boolean;
  selection: FolderSelection;
  filter: MessageFilter;
  /** Rate limits and the daily download cap (`--max-bytes-per-second`, `--daily-limit-down`, ...). */
  traffic?: TrafficLimits;
  dryRun: boolean;
  logger: StderrLogger;
  emit: EmitEvent;
  signal?: AbortSignal;
}

/** Inside the backup directory, so the backup carries its own state wherever it is moved. */
const STATE_FILE = path.join('.mailferry', 'state.sqlite');
/** A Maildir backup's folder seals (`seal-file.ts`), beside the checkpoint. */
const SEALS_FILE = path.join('.mailferry', 'maildir-seals.json');

/**
 * IMAP account to a backup directory: the migrate engine with a Maildir or mbox store as the
 * destination, then optionally --mirror deletions and an archive of the whole directory.
 */
export async function backup(req: BackupRequest): Promise<JobResult> {
  const started = new Date();
  const root = path.resolve(req.dir);
  const archivePlan = req.archive !== undefined ? planArchive(req.archive, root) : undefined;
  if (req.keep !== undefined && !archivePlan) throw new UsageError('--keep needs --archive');

  const existing = await existingBackup(root);
  const { format, layout } = chooseFormat(req, root, existing);
  const source = await imapStoreFor('source', req.account, req.policy, req.logger);
  const match = existing ? await matchAccount(existing.manifest.source, source.label, `backup ${root}`) : undefined;
  if (match?.kind === 'refused') throw new UsageError(`${root} is a backup of ${existing!.manifest.source}, not of ${source.label}${match.why}; use another directory`);
  if (match?.kind === 'reached-another-way') req.emit({ type: 'notice', message: match.notice });
  const manifest = existing ?? ManifestFile.fresh(root, { source: source.label, format, layout });
  if (!req.dryRun) await prepareDirectory(root, manifest, !existing);

  const label = `${format}:${root}`;
  // A dry run writes nothing, seals included: it checks every folder file by file, as a restore does.
  const seals = format === 'maildir' && !req.dryRun ? await SealFile.read(path.join(root, SEALS_FILE)) : undefined;
  const dest = format === 'maildir' ? new MaildirStore(manifest, label, layout, seals) : new MboxStore(manifest, label);
  const result = await runCopyJob({
    command: 'backup',
    source,
    dest,
    statePath: path.join(root, STATE_FILE),
    // The manifest's account: the same as the source's, or accepted above as reached another way.
    checkpointIdentity: { source: manifest.manifest.source, dest: `backup:${format}` },
    selection: req.selection,
    filter: req.filter,
    syncFlags: true,
    traffic: req.traffic,
    connections: req.policy.connections,
    dryRun: req.dryRun,
    emit: req.emit,
    signal: req.signal,
    afterTransfer: async ({ pairs, reports, checkpoint }) => {
      await manifest.describeSources(
        new Map(pairs.map((p) => [p.dest.name, { name: p.source.name, delimiter: p.source.delimiter, uidValidity: p.source.status?.uidValidity }])),
      );
      if (req.mirror) await mirrorDeletions({ source, dest, checkpoint, emit: req.emit }, pairs, reports);
      await removeAtomicLeftovers(root);
      await seals?.save();
    },
  });
  if (archivePlan && !req.dryRun) result.archive = (await archiveBackup(root, archivePlan, started, req.keep)).path;
  return result;
}

/** The backup already in `root`, if any. A non-empty directory that is not one is refused: never write into someone's files. */
async function existingBackup(root: string): Promise<ManifestFile | undefined> {
  const manifest = await ManifestFile.read(root);
  if (manifest) return manifest;
  let entries: string[];
  try {
    entries = await fs.readdir(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new UsageError(`--to ${root}: ${code === 'ENOTDIR' ? 'not a directory' : (err as Error).message}`);
  }
  // A run killed while writing the first manifest leaves only that manifest's temporary file.
  if (entries.some((name) => !isManifestTemporary(name))) {
    throw new UsageError(`--to ${root} is not empty and holds no ${MANIFEST_FILE}: give a new or empty directory for a new backup`);
  }
  return undefined;
}

function chooseFormat(req: BackupRequest, root: string, existing: ManifestFile | undefined): { format: BackupFormat; layout: MaildirLayout } {
  const format = req.format ?? existing?.manifest.format ?? 'maildir';
  if (format === 'mbox' && req.layout !== undefined) throw new UsageError('--layout applies to --format maildir only');
  if (existing) {
    const m = existing.manifest;
    if (format !== m.format || (req.layout !== undefined && req.layout !== m.layout)) {
      throw new UsageError(`${root} holds a ${m.format} backup${m.format === 'maildir' ? ` (layout ${m.layout})` : ''}; leave out --format and --layout, or use another directory`);
    }
    return { format: m.format, layout: m.layout };
  }
  return { format, layout: format === 'mbox' ? 'fs' : (req.layout ?? 'maildir++') };
}

/** The backup directory made ready to write, or a one-line error saying why it cannot be. */
async function prepareDirectory(root: string, manifest: ManifestFile, fresh: boolean): Promise<void> {
  try {
    if (fresh) await createDirectory(root, manifest);
    else await ManifestFile.removeAbandonedTemporaries(root);
    // Where the checkpoint goes; 0700 even when a user removed it from an existing backup.
    await ensureDir(path.join(root, '.mailferry'));
  } catch (err) {
    const cause = (err as NodeJS.ErrnoException).code === 'ENOENT' ? (ancestorWriteError(root) ?? err) : err;
    throw fileFailure(cause, `preparing the backup directory ${root}`);
  }
}

/**
 * A new backup directory. The manifest comes first: from then on the directory is recognisably a
 * backup whatever happens next. (An existing backup's manifest is only written by the run's
 * checkpoint holder, once it has the lock.)
 */
async function createDirectory(root: string, manifest: ManifestFile): Promise<void> {
  await fs.mkdir(root, { recursive: true, mode: DIR_MODE });
  await fs.chmod(root, DIR_MODE);
  await ManifestFile.removeAbandonedTemporaries(root);
  await manifest.create();
}

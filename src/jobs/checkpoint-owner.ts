import { SqliteCheckpoint, type CheckpointIdentity } from '../checkpoint/sqlite-checkpoint.js';
import { UsageError } from '../errors/errors.js';
import { matchAccount } from './same-account.js';

/**
 * The accounts a checkpoint names, when they differ from this run's labels but are the same
 * accounts reached another way (same-account.ts); each such side is told through `notify`. A
 * different account is refused here with UsageError.
 */
export async function acceptedOwner(path: string, identity: CheckpointIdentity, notify: (message: string) => void, forWriting = false): Promise<CheckpointIdentity | undefined> {
  const owner = SqliteCheckpoint.ownerOf(path, forWriting);
  if (!owner || (owner.source === identity.source && owner.dest === identity.dest)) return undefined;
  const what = `checkpoint ${path}`;
  const notices: string[] = [];
  for (const [was, now] of [[owner.source, identity.source], [owner.dest, identity.dest]] as const) {
    const match = await matchAccount(was, now, what);
    if (match.kind === 'refused') throw new UsageError(`${what} belongs to ${owner.source} -> ${owner.dest}, not ${identity.source} -> ${identity.dest}${match.why}`);
    if (match.kind === 'reached-another-way') notices.push(match.notice);
  }
  notices.forEach(notify);
  return owner;
}

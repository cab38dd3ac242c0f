import type { BigIntStats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readUidListHeader, type UidListHeader } from './uid-list.js';

/**
 * What a Maildir folder's `cur/` and `new/` looked like when every message its UID list counts was
 * last seen there whole: the directories' identity and change times, and the list's counters.
 * Deleting, adding or renaming a message file changes its directory's ctime, which no one can set
 * back, so while both directories and the counters are as sealed, no listed file has gone: a rerun
 * needs two stats instead of a readdir and a stat per message. (Dovecot's maildir sync trusts the
 * same directory times to skip rescanning a folder.) A file cut short in place changes no
 * directory: a seal does not see that; the next opening of the folder and `mailferry check` do.
 */
export interface FolderSeal extends UidListHeader {
  cur: DirMark;
  new: DirMark;
}

/** A directory's identity and last change, in nanoseconds (as decimal strings: they exceed 2^53). */
export interface DirMark {
  dev: string;
  ino: string;
  ctimeNs: string;
  mtimeNs: string;
}

/** Whether `dir` is still as `seal` recorded, with these counters in its UID list. */
export async function stillSealed(dir: string, seal: FolderSeal, header: UidListHeader): Promise<boolean> {
  if (seal.uidValidity !== header.uidValidity || seal.nextUid !== header.nextUid || seal.messages !== header.messages) return false;
  const now = await marks(dir).catch(() => undefined);
  return now !== undefined && sameMark(now.cur, seal.cur) && sameMark(now.new, seal.new);
}

/**
 * How sure a seal is that a later change of `cur/` or `new/` will show in their times: a change
 * within the same tick of the file system's clock as the last one sealed would carry the same
 * times and pass unseen. A folder `as-found` (listing, nothing written) is sealed only once its
 * directories have been quiet for QUIET_MS by the system clock, so nothing is written to find out.
 * A folder `just-written` (closing it) reads the file system's own clock by touching its `tmp/`,
 * and waits 1, 2, 4… ms, up to SEAL_PATIENCE_MS, for that clock to tick past the last change.
 */
export type Moment = 'as-found' | 'just-written';

/** Dovecot's maildir sync allows its clocks one second (MAILDIR_SYNC_SECS); FAT's times have two. */
const QUIET_MS = 2000;
const SEAL_PATIENCE_MS = 40;

/**
 * Runs `isWhole` over the folder (it reports whether every listed message is there whole) and,
 * when it is, returns the seal of the state it saw. None when `cur/` or `new/` changed during the
 * check or too lately (`Moment`); `isWhole` runs either way.
 */
export async function checkAndSeal(dir: string, isWhole: (header: UidListHeader) => Promise<boolean>, moment: Moment): Promise<{ whole: boolean; seal?: FolderSeal }> {
  const before = await settledMarks(dir, moment).catch(() => undefined);
  const header = await readUidListHeader(dir);
  const whole = header !== undefined && (await isWhole(header));
  if (!whole || !before) return { whole };
  const after = await marks(dir).catch(() => undefined);
  return { whole, seal: after && sameMark(after.cur, before.cur) && sameMark(after.new, before.new) ? { ...header, ...before } : undefined };
}

/** The marks of `cur/` and `new/` if both last changed early enough to seal (`Moment`). */
async function settledMarks(dir: string, moment: Moment): Promise<{ cur: DirMark; new: DirMark } | undefined> {
  const settled = (m: { cur: DirMark; new: DirMark }, bound: bigint): boolean => BigInt(m.cur.ctimeNs) < bound && BigInt(m.new.ctimeNs) < bound;
  if (moment === 'as-found') {
    const current = await marks(dir);
    return settled(current, BigInt(Date.now() - QUIET_MS) * 1_000_000n) ? current : undefined;
  }
  for (let wait = 1, waited = 0; ; waited += wait, wait *= 2) {
    const now = await fileSystemNow(dir);
    const current = await marks(dir);
    if (settled(current, now)) return current;
    if (waited + wait > SEAL_PATIENCE_MS) return undefined;
    await sleep(wait);
  }
}

/** The file system's clock as it stamps the folder: the ctime `tmp/` gets from being touched. */
async function fileSystemNow(dir: string): Promise<bigint> {
  const tmp = path.join(dir, 'tmp');
  const now = new Date();
  await fs.utimes(tmp, now, now);
  return (await fs.stat(tmp, { bigint: true })).ctimeNs;
}

async function marks(dir: string): Promise<{ cur: DirMark; new: DirMark }> {
  const [cur, fresh] = await Promise.all([fs.stat(path.join(dir, 'cur'), { bigint: true }), fs.stat(path.join(dir, 'new'), { bigint: true })]);
  return { cur: markOf(cur), new: markOf(fresh) };
}

function markOf(st: BigIntStats): DirMark {
  return { dev: String(st.dev), ino: String(st.ino), ctimeNs: String(st.ctimeNs), mtimeNs: String(st.mtimeNs) };
}

function sameMark(a: DirMark, b: DirMark): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.ctimeNs === b.ctimeNs && a.mtimeNs === b.mtimeNs;
}

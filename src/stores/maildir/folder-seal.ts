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
 * Runs `isWhole` over the folder (it reports whether every listed message is there whole) and,
 * when it is, returns the seal of the state it saw. None when `cur/` or `new/` changed during the
 * check, or last changed within the file system's current clock tick: a later change in that same
 * tick would carry the same times and pass unseen. Up to `patienceMs` is spent waiting for the
 * next tick (a folder just written); `isWhole` runs once either way.
 */
export async function checkAndSeal(dir: string, isWhole: (header: UidListHeader) => Promise<boolean>, patienceMs = 0): Promise<{ whole: boolean; seal?: FolderSeal }> {
  const before = await settledMarks(dir, patienceMs);
  const header = await readUidListHeader(dir);
  const whole = header !== undefined && (await isWhole(header));
  if (!whole || !before) return { whole };
  const after = await marks(dir).catch(() => undefined);
  return { whole, seal: after && sameMark(after.cur, before.cur) && sameMark(after.new, before.new) ? { ...header, ...before } : undefined };
}

/**
 * The marks of `cur/` and `new/` if both changed before the current tick of the folder's file
 * system clock, read by touching `tmp/` (its ctime is that clock's now). Waits 1, 2, 4… ms for
 * the tick to pass, within `patienceMs`. None where it cannot tell (no `tmp/`): a seal only saves work.
 */
async function settledMarks(dir: string, patienceMs: number): Promise<{ cur: DirMark; new: DirMark } | undefined> {
  for (let wait = 1, waited = 0; ; waited += wait, wait *= 2) {
    const now = await clockNow(dir).catch(() => undefined);
    const current = await marks(dir).catch(() => undefined);
    if (now === undefined || current === undefined) return undefined;
    if (BigInt(current.cur.ctimeNs) < now && BigInt(current.new.ctimeNs) < now) return current;
    if (waited + wait > patienceMs) return undefined;
    await sleep(wait);
  }
}

async function clockNow(dir: string): Promise<bigint> {
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

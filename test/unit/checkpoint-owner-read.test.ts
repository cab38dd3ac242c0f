import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { SqliteCheckpoint } from '../../src/checkpoint/sqlite-checkpoint.js';

vi.mock('node:fs', async (original) => {
  const real = await original<typeof import('node:fs')>();
  return { ...real, readFileSync: vi.fn(real.readFileSync) };
});

const identity = { source: 'imap://a@src', dest: 'imap://b@dst' };

describe('whose checkpoint it is', () => {
  it('is read in place before a run that writes to it (the file is not copied into memory), leaving no -wal or -shm file', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'mf-owner-'));
    const path = join(dir, 'state.sqlite');
    SqliteCheckpoint.open(path, identity).close();
    vi.mocked(fs.readFileSync).mockClear();
    expect(SqliteCheckpoint.ownerOf(path, true)).toEqual(identity);
    expect(vi.mocked(fs.readFileSync).mock.calls.filter(([p]) => p === path)).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual(['state.sqlite']);
  });

  it('is read from a copy for a dry run, which changes nothing beside the file', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'mf-owner-'));
    const path = join(dir, 'state.sqlite');
    SqliteCheckpoint.open(path, identity).close();
    expect(SqliteCheckpoint.ownerOf(path)).toEqual(identity);
    expect(fs.readdirSync(dir)).toEqual(['state.sqlite']);
  });
});

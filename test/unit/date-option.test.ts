import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/cli/options.js';
import { skipReason } from '../../src/engine/filters.js';
import { MailferryError } from '../../src/errors/errors.js';

const runStart = new Date('2026-03-31T17:45:00Z');
const day = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

describe('--since and --before as an age (imapsync --maxage/--minage)', () => {
  it('counts days and weeks back from the start of the run\'s UTC day', () => {
    expect(parseFilter({ since: '30d' }, runStart).since).toEqual(day('2026-03-01'));
    expect(parseFilter({ since: '0d' }, runStart).since).toEqual(day('2026-03-31'));
    expect(parseFilter({ before: '2w' }, runStart).before).toEqual(day('2026-03-17'));
  });

  it('counts calendar months and years, ending a short month on its last day', () => {
    expect(parseFilter({ since: '1m' }, runStart).since).toEqual(day('2026-02-28'));
    expect(parseFilter({ since: '13m' }, runStart).since).toEqual(day('2025-02-28'));
    expect(parseFilter({ before: '1y' }, runStart).before).toEqual(day('2025-03-31'));
    expect(parseFilter({ before: '2y' }, new Date('2028-02-29T01:00:00Z')).before).toEqual(day('2026-02-28'));
  });

  it('still takes dates, and refuses anything else with a usage error', () => {
    expect(parseFilter({ since: '2024-01-02' }, runStart).since).toEqual(day('2024-01-02'));
    for (const bad of ['30', '30x', '-3d', '1.5y', 'yesterday']) {
      expect(() => parseFilter({ since: bad }, runStart)).toThrow(MailferryError);
      expect(() => parseFilter({ since: bad }, runStart)).toThrow(/--since: not a date or an age/);
    }
  });
});

describe('--min-size', () => {
  it('leaves out smaller messages under a reason of their own', () => {
    const filter = parseFilter({ 'min-size': 1000 }, runStart);
    const at = (size: number) => skipReason({ uid: 1, size, internalDate: runStart }, filter);
    expect(at(999)).toBe('under-min-size');
    expect(at(1000)).toBeUndefined();
    expect(() => parseFilter({ 'min-size': -1 }, runStart)).toThrow(/--min-size: not a byte count/);
  });
});

import yargs, { type Options } from 'yargs';
import { describe, expect, it } from 'vitest';
import { bindOptionValues } from '../../src/cli/option-values.js';
import { OPTION_TABLES } from '../../src/cli/index.js';

/** What yargs makes of `args` with `table`, after the values are bound (one option at a time, so none is demanded). */
function parsed(args: string[], table: Record<string, Options>): Record<string, unknown> {
  const optional = Object.fromEntries(Object.entries(table).map(([name, o]) => [name, { ...o, demandOption: false }]));
  return yargs(bindOptionValues(args, table)).options(optional).strict().exitProcess(false).help(false).version(false).parseSync();
}

const takesValue = (o: Options): boolean => o.type !== 'boolean' && o.type !== 'count';

describe('an option that takes a value takes the next word, as getopt does', () => {
  for (const [command, table] of Object.entries(OPTION_TABLES)) {
    const valued = Object.entries(table).filter(([, o]) => takesValue(o));
    it.each(valued.map(([name, o]) => [name, o] as const))(`${command} --%s -dash`, (name, option) => {
      const word = option.type === 'number' ? '-7' : option.choices ? String([option.choices].flat()[0]) : '-dash';
      const value = parsed([`--${name}`, word], table)[name];
      const expected = option.type === 'number' ? -7 : word;
      expect(option.array ? value : [value]).toEqual([expected]);
    });
  }

  it('through a short alias too, and for each of repeated options', () => {
    const table = { folder: { type: 'string', array: true, alias: 'f' }, json: { type: 'boolean' } } satisfies Record<string, Options>;
    expect(bindOptionValues(['-f', '-a', '--folder', '--b', '--folder', 'c'], table)).toEqual(['-f=-a', '--folder=--b', '--folder', 'c']);
  });

  it('leaves flags, words already joined with =, and everything after -- alone', () => {
    const table = { folder: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean', alias: 'q' } } satisfies Record<string, Options>;
    expect(bindOptionValues(['--json', '-q', '--folder=-x', '--', '--folder', '-y'], table)).toEqual(['--json', '-q', '--folder=-x', '--', '--folder', '-y']);
  });
});

import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { skipHelpCache } from '../../src/cli/skip-help-cache.js';

/** A parser with one command, as runCli builds them; `ran` records that the command ran. */
function parser(ran: string[]) {
  return yargs(['go', '--level', '3'])
    .command('go', 'does it', (y) => y.option('level', { type: 'number', describe: 'how far' }), async (argv) => {
      ran.push(`go ${argv.level}`);
    })
    .strict()
    .exitProcess(false)
    .help();
}

const helpRendered = (p: object): boolean => (p as { getInternalMethods(): { getUsageInstance(): { hasCachedHelpMessage(): boolean } } }).getInternalMethods().getUsageInstance().hasCachedHelpMessage();

describe("yargs' help text, rendered as a command starts", () => {
  it('is rendered by yargs whenever a command runs (what skipping saves)', async () => {
    const p = parser([]);
    await p.parseAsync();
    expect(helpRendered(p)).toBe(true);
  });

  it('is not rendered once skipped, and the command still runs with its options', async () => {
    const ran: string[] = [];
    const p = parser(ran);
    skipHelpCache(p);
    await p.parseAsync();
    expect(ran).toEqual(['go 3']);
    expect(helpRendered(p)).toBe(false);
  });
});

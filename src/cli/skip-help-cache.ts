/**
 * yargs renders a command's whole help text as soon as the command's handler has started, to have
 * it ready should the command fail: 25–30 ms on the event loop while a run's first connections
 * open (`node --cpu-prof`), on every run. mailferry's `fail` throws and never shows it, so a run
 * that does not ask for help skips it (a no-change rerun at 0 ms: 381–405 ms instead of 426–431).
 * These are yargs' internals: where a future yargs moves them, nothing is skipped
 * (test/unit/skip-help-cache.test.ts notices).
 */
export function skipHelpCache(parser: object): void {
  const usage = (parser as YargsInternals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

interface YargsInternals {
  getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } };
}

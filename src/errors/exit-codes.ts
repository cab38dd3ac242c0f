/**
 * The one table of exit statuses. `--help`, docs/exit-codes.md and main.ts all read it;
 * never write these numbers anywhere else.
 */
export const EXIT_CODES = {
  ok: { status: 0, meaning: 'everything was done' },
  partial: { status: 1, meaning: 'finished, but some messages failed or differ (each is listed)' },
  usage: { status: 2, meaning: 'usage or configuration error (bad option, URL, password source)' },
  auth: { status: 3, meaning: 'authentication failed' },
  connection: { status: 4, meaning: 'connection or TLS failure' },
  quota: { status: 5, meaning: 'destination full or refusing (quota), or no space left on the local disk; a rerun resumes' },
  dailyLimit: { status: 6, meaning: 'daily transfer limit reached; a rerun after the time shown resumes' },
  localStorage: { status: 7, meaning: 'read-only directory or damaged checkpoint or manifest; the line says what to do' },
  errorsMax: { status: 8, meaning: 'stopped: as many messages failed as --errors-max allows; a rerun retries them and resumes' },
  interrupted: { status: 130, meaning: 'interrupted; a rerun resumes' },
  internal: { status: 70, meaning: 'internal error (a bug): please report it with --debug output' },
} as const;

export type ExitKind = keyof typeof EXIT_CODES;

export function exitStatus(kind: ExitKind): number {
  return EXIT_CODES[kind].status;
}

/** Lines for `--help` epilogues and the docs. */
export function exitCodeTable(): string {
  return Object.values(EXIT_CODES)
    .map((c) => `  ${String(c.status).padStart(3)}  ${c.meaning}`)
    .join('\n');
}

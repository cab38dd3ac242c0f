/**
 * One account of a bulk campaign, as its list names it. It carries no secret: a password column
 * (allowed only with --allow-passwords-in-list) is kept apart, and everything else is resolved
 * by whoever runs the account, on its own machine.
 */
export interface BulkAccount {
  /**
   * The account's key in the status store and the queue: the row's `id` when given, else derived
   * from the command and the account pair (see accountKey), so the same list gives the same keys.
   */
  key: string;
  /** The row's `id` column, when given ({id} in password templates; shown in reports). */
  id?: string;
  /** Where the row is, for messages: the list file and its 1-based line. */
  origin: { file: string; line: number };
  /** The source account URL. */
  from: string;
  /** The destination account URL (migrate) or backup directory (backup). */
  to: string;
  /**
   * This row's own options over the campaign's, keyed as the command's option table spells them
   * (`folder`, `exclude`, `map`, `since`, `from-profile`, ...), values as yargs would parse them.
   */
  options: Record<string, unknown>;
}

export type BulkCommand = 'migrate' | 'backup';

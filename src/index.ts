/**
 * mailferry as a library: the one public surface (package.json "exports" allows no other import).
 * docs/api.md describes it with a complete example.
 */
export { migrate, backup, restore, verify, listFolders } from './api/calls.js';
export { Run, type RunEvents } from './api/run.js';
export type {
  BackupOptions, CallOptions, ConnectionOptions, DestinationAccountOptions, FolderOptions, ListFoldersOptions, MessageOptions, MigrateOptions, RateOptions,
  RestoreOptions, RunOptions, SearchOptions, SourceAccountOptions, TreeOptions, VerifyOptions,
} from './api/options.js';
export type { EngineEvent as RunEvent } from './engine/events.js';
export type { FolderReport, MessageFailure, Totals } from './engine/report.js';
export type { RunPlan } from './engine/run-plan.js';
export type { FolderComparison, MessageRef } from './engine/verify.js';
export type { FolderListing, FolderLine } from './jobs/folders.js';
export type { VerifyResult } from './jobs/verify.js';
export type { RunSummary, VerifySummary } from './reporting/run-summary.js';
export {
  ArchiveError, AuthError, ConnectionError, DailyLimitError, ErrorsMaxError, InterruptedError, MailferryError, QuotaError, ThrottleError, UsageError,
} from './errors/errors.js';
export { EXIT_CODES, type ExitKind } from './errors/exit-codes.js';

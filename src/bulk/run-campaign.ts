import { chmodSync, mkdirSync } from 'node:fs';
import { ProfileCatalog } from '../config/profile-catalog.js';
import type { CampaignSnapshot } from './account-status.js';
import type { AccountSecrets } from './account-secrets.js';
import type { BulkAccount, BulkCommand } from './bulk-account.js';
import type { BulkDisplay } from './bulk-display.js';
import { campaignTotals } from './campaign-totals.js';
import { accountFiles, accountsDir } from './campaign-files.js';
import { CampaignProgress } from './campaign-progress.js';
import { hostClaims } from './host-claims.js';
import { HostGate } from './host-gate.js';
import { InProcessRunner } from './in-process-runner.js';
import { InProcessScheduler } from './in-process-scheduler.js';
import { SqliteStatusStore } from './sqlite-status-store.js';

export interface CampaignRequest {
  command: BulkCommand;
  list: string;
  statusFile: string;
  accounts: BulkAccount[];
  secrets: AccountSecrets;
  /** Passwords to keep out of every account's log. */
  redact: readonly string[];
  /** The options every account runs with, as the single command takes them. */
  argv: Record<string, unknown> & { connections: number; 'profile-file'?: string; 'from-profile'?: string; 'to-profile'?: string };
  parallel: number;
  maxPerHost?: number;
  retries: number;
  /** --from-admin/--to-admin */
  admins: Partial<Record<'from' | 'to', string>>;
  signal: AbortSignal;
  display: (progress: CampaignProgress) => BulkDisplay;
}

/** How often the throughput over time (the report's chart) is sampled. */
const SAMPLE_MS = 5_000;

/**
 * Runs a campaign embedded: the status in one SQLite file, each account's checkpoint and log in
 * the directory beside it (0700), the accounts run in this process. Returns the final snapshot.
 */
export async function runCampaign(req: CampaignRequest): Promise<CampaignSnapshot> {
  const dir = accountsDir(req.statusFile);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const files = accountFiles(req.command, dir);
  const store = SqliteStatusStore.forRun(req.statusFile, { command: req.command, list: req.list });
  try {
    await store.enroll(req.accounts, files);
    const keys = new Set(req.accounts.map((a) => a.key));
    const before = campaignTotals((await store.snapshot()).accounts.filter((a) => keys.has(a.key)));
    const progress = new CampaignProgress(req.accounts.length);
    const display = req.display(progress);
    const sample = (): void => {
      const moved = progress.moved();
      void store.sample({ at: new Date().toISOString(), messages: before.messages + moved.messages, bytes: before.bytes + moved.bytes });
    };
    sample();
    const sampler = setInterval(sample, SAMPLE_MS);
    try {
      const scheduler = new InProcessScheduler({
        runner: new InProcessRunner({ command: req.command, argv: req.argv, secrets: req.secrets, redact: req.redact, admins: req.admins, files }),
        store,
        files,
        parallel: req.parallel,
        gate: new HostGate(req.maxPerHost),
        claims: hostClaims(req.command, req.argv, ProfileCatalog.load(req.argv['profile-file'])),
        retries: req.retries,
        signal: req.signal,
        events: (e) => {
          progress.apply(e);
          display.event(e);
        },
      });
      await scheduler.run(req.accounts);
    } finally {
      clearInterval(sampler);
      display.stop();
      sample();
    }
    return await store.snapshot();
  } finally {
    await store.close();
  }
}

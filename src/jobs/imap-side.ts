import { readFile } from 'node:fs/promises';
import { endpointLabel, parseAccountUrl } from '../config/account-url.js';
import { resolvePassword } from '../config/secrets.js';
import { UsageError } from '../errors/errors.js';
import type { StderrLogger } from '../reporting/logger.js';
import { ImapStore } from '../stores/imap/imap-store.js';
import type { Side } from '../domain/types.js';

/** How the user described one IMAP account on the command line. */
export interface ImapSideSpec {
  url: string;
  passwordFile?: string;
  passwordCommand?: string;
  caFile?: string;
}

export interface ConnectionPolicy {
  insecureTls: boolean;
  allowPlaintext: boolean;
  connections: number;
  socketTimeoutMs: number;
  debug: boolean;
  prompt?: (question: string) => Promise<string>;
}

const SIDE_WORD: Record<Side, 'from' | 'to'> = { source: 'from', dest: 'to' };

/** Turns one side's options into a connected-on-demand IMAP store, resolving its password. */
export async function imapStoreFor(side: Side, spec: ImapSideSpec, policy: ConnectionPolicy, logger: StderrLogger): Promise<ImapStore> {
  const word = SIDE_WORD[side];
  const option = `--${word}`;
  const endpoint = parseAccountUrl(spec.url, option);
  const password = await resolvePassword(
    {
      envVar: `MAILFERRY_${word.toUpperCase()}_PASSWORD`,
      file: spec.passwordFile,
      command: spec.passwordCommand,
      inUrl: endpoint.password,
      option,
      prompt: policy.prompt,
    },
    process.env,
    (m) => logger.warn(m),
  );
  logger.addSecret(password);
  if (policy.insecureTls) logger.warn(`--insecure-tls: the certificate of ${endpoint.host} is NOT checked; anyone on the path can read ${option}'s password and mail`);
  let ca: string | undefined;
  if (spec.caFile) {
    try {
      ca = await readFile(spec.caFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--${word}-ca: cannot read ${spec.caFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return new ImapStore({
    endpoint,
    label: endpointLabel(endpoint),
    password,
    ca,
    insecureTls: policy.insecureTls,
    allowPlaintext: policy.allowPlaintext,
    connections: policy.connections,
    socketTimeoutMs: policy.socketTimeoutMs,
    logger,
    debug: policy.debug,
  });
}

import type { Sides } from '../../domain/types.js';
import type { ImapSideSpec } from '../../jobs/imap-side.js';

/** The per-side options every two-sided command takes (see `accountOptions`). */
export interface SideArgs {
  from: string;
  to: string;
  'from-password-file'?: string;
  'from-password-command'?: string;
  'from-ca'?: string;
  'to-password-file'?: string;
  'to-password-command'?: string;
  'to-ca'?: string;
  'insecure-tls': boolean;
  'allow-plaintext': boolean;
}

export function sideSpecs(argv: SideArgs): Sides<ImapSideSpec> {
  return {
    source: { url: argv.from, passwordFile: argv['from-password-file'], passwordCommand: argv['from-password-command'], caFile: argv['from-ca'] },
    dest: { url: argv.to, passwordFile: argv['to-password-file'], passwordCommand: argv['to-password-command'], caFile: argv['to-ca'] },
  };
}

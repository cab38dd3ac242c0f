// OfflineIMAP (Debian `offlineimap3`), IMAP to a local Maildir, configured as in performance.md.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { maildirMessages } from '../verify.js';
import { expectCopy, PASSWORD, type Tool } from '../tool.js';
import { missingBinary } from './binaries.js';

export const offlineimap: Tool = {
  name: 'OfflineIMAP',
  unavailable: async () => missingBinary('offlineimap', 'offlineimap3'),
  async prepare(ctx) {
    const mail = join(ctx.workDir, 'mail');
    const rc = join(ctx.workDir, 'offlineimaprc');
    await mkdir(mail);
    await writeFile(rc, [
      '[general]',
      'accounts = bench',
      `metadata = ${join(ctx.workDir, 'metadata')}`,
      '',
      '[Account bench]',
      'localrepository = local',
      'remoterepository = remote',
      '',
      '[Repository local]',
      'type = Maildir',
      `localfolders = ${mail}`,
      '',
      '[Repository remote]',
      'type = IMAP',
      // Its certificate check matches DNS names only, not an IP address; localhost is 127.0.0.1.
      `remotehost = ${ctx.endpoint.tls ? 'localhost' : ctx.endpoint.host}`,
      `remoteport = ${ctx.endpoint.port}`,
      `remoteuser = ${ctx.source.user}`,
      `remotepass = ${PASSWORD}`,
      ...(ctx.endpoint.tls ? ['ssl = yes', `sslcacertfile = ${ctx.server.caFile}`] : ['ssl = no', 'starttls = no']),
      // It sends COMPRESS without looking at the capabilities, so only where it is offered.
      ...(ctx.endpoint.compress ? ['usecompression = yes'] : []),
      'readonly = True',
      'maxconnections = 1',
      '',
    ].join('\n'), { mode: 0o600 });
    return {
      command: { command: 'offlineimap', args: ['-c', rc, '-u', 'quiet', '-o'] },
      check: async (m) => expectCopy(m, await maildirMessages(mail), ctx.source.messages, 'OfflineIMAP'),
      cleanup: () => rm(mail, { recursive: true, force: true }),
    };
  },
};

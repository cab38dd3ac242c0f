// mbsync (Debian `isync`), IMAP to a local Maildir, configured as in performance.md. isync 1.4
// uses COMPRESS=DEFLATE whenever the server offers it (its DisableExtension turns that off).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { maildirMessages } from '../verify.js';
import { expectCopy, PASSWORD, type Tool } from '../tool.js';
import { missingBinary } from './binaries.js';

export const mbsync: Tool = {
  name: 'mbsync',
  unavailable: async () => missingBinary('mbsync', 'isync'),
  async prepare(ctx) {
    const mail = join(ctx.workDir, 'mail');
    const rc = join(ctx.workDir, 'mbsyncrc');
    await mkdir(mail);
    await writeFile(rc, [
      'IMAPAccount src',
      // isync matches the certificate's DNS names only, not an IP address; localhost is 127.0.0.1.
      `Host ${ctx.endpoint.tls ? 'localhost' : ctx.endpoint.host}`,
      `Port ${ctx.endpoint.port}`,
      `User ${ctx.source.user}`,
      `Pass ${PASSWORD}`,
      ...(ctx.endpoint.tls ? ['SSLType IMAPS', `CertificateFile ${ctx.server.caFile}`] : ['SSLType None']),
      'AuthMechs LOGIN',
      '',
      'IMAPStore src-remote',
      'Account src',
      '',
      'MaildirStore local',
      `Path ${mail}/`,
      `Inbox ${mail}/INBOX`,
      'SubFolders Verbatim',
      '',
      'Channel backup',
      'Far :src-remote:',
      'Near :local:',
      'Patterns *',
      'Create Near',
      'Sync Pull',
      'SyncState *',
      'Expunge None',
      '',
    ].join('\n'), { mode: 0o600 });
    return {
      command: { command: 'mbsync', args: ['-q', '-c', rc, '-a'] },
      check: async (m) => expectCopy(m, await maildirMessages(mail), ctx.source.messages, 'mbsync'),
      cleanup: () => rm(mail, { recursive: true, force: true }),
    };
  },
};

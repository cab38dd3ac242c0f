// Dovecot's own migration path: `doveadm backup -R` from an imapc: source into the destination
// account, exactly as performance.md ran it. Dovecot 2.3's imapc has no COMPRESS support.
import { PASSWORD, expectCopy, type Tool } from '../tool.js';
import { accountMessages } from '../verify.js';
import { dropAccountMail, virginAccount } from './accounts.js';

export const doveadmBackup: Tool = {
  name: 'doveadm backup imapc',
  unavailable: async () => undefined, // Dovecot is the benchmark's server: always there
  async prepare(ctx) {
    const dest = await virginAccount(ctx);
    const set = (key: string, value: string | number): string[] => ['-o', `${key}=${value}`];
    return {
      command: {
        command: 'doveadm',
        args: [
          '-c', ctx.server.configFile,
          ...set('imapc_host', ctx.endpoint.host), ...set('imapc_port', ctx.endpoint.port),
          ...set('imapc_user', ctx.source.user), ...set('imapc_password', PASSWORD),
          ...(ctx.endpoint.tls ? [...set('imapc_ssl', 'imaps'), ...set('ssl_client_ca_file', ctx.server.caFile)] : set('imapc_ssl', 'no')),
          ...set('imapc_features', 'rfc822.size fetch-headers'), ...set('mail_prefetch_count', 20),
          'backup', '-R', '-u', dest, 'imapc:',
        ],
      },
      check: async (m) => expectCopy(m, await accountMessages(ctx.server, dest), ctx.source.messages, 'doveadm backup imapc'),
      cleanup: () => dropAccountMail(ctx, dest),
    };
  },
};

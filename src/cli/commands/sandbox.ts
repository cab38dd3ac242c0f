import { writeFileAtomic } from '../../stores/local/safe-fs.js';
import type { Argv, CommandModule } from 'yargs';
import { randomBytes } from 'node:crypto';
import { positiveInt } from '../options.js';
import type { CliContext } from '../context.js';

export const sandboxOptions = {
  messages: { type: 'number', default: 300, describe: 'sample messages to put into the first account' },
  seed: { type: 'number', default: 1, describe: 'seed of the generated sample mail (same seed, same mail)' },
  'env-out': { type: 'string', describe: 'also write the URLs, CA and passwords as shell exports to this file (mode 0600)' },
} as const;

/**
 * A private Dovecot on 127.0.0.1 with two accounts, for trying mailferry without touching real
 * mail: `alice` filled with generated sample mail, `bob` empty.
 */
export function sandboxCommand(ctx: CliContext): CommandModule {
  return {
    command: 'sandbox',
    describe: 'start a private local Dovecot with two accounts to try mailferry on (Ctrl-C stops it)',
    builder: (y: Argv) => y.options(sandboxOptions),
    handler: async (raw) => {
      const { seedAccount } = await import('../../sandbox/seed.js');
      const { corpusFolders, generateCorpus } = await import('../../sandbox/corpus.js');
      const { startDovecot } = await import('../../sandbox/dovecot-server.js');
      const argv = raw as unknown as { messages: number; seed: number; 'env-out'?: string };
      const users = [
        { name: 'alice', password: randomBytes(9).toString('base64url') },
        { name: 'bob', password: randomBytes(9).toString('base64url') },
      ];
      const server = await startDovecot({ users });
      try {
        const opts = { seed: argv.seed, messages: positiveInt(argv.messages, 'messages') };
        const seeded = await seedAccount(
          { host: server.host, port: server.port, user: 'alice', password: users[0]!.password },
          generateCorpus(opts),
          { folders: corpusFolders(opts) },
        );
        const url = (u: string): string => `imap://${u}@${server.host}:${server.port}`;
        // Implicit TLS on its own port, with the sandbox CA's certificate (for 127.0.0.1 and localhost).
        const tlsUrl = (u: string): string => `imaps://${u}@${server.host}:${server.tlsPort}`;
        const exports = [
          `export MAILFERRY_SANDBOX_FROM='${url('alice')}'`,
          `export MAILFERRY_SANDBOX_TO='${url('bob')}'`,
          `export MAILFERRY_SANDBOX_FROM_TLS='${tlsUrl('alice')}'`,
          `export MAILFERRY_SANDBOX_TO_TLS='${tlsUrl('bob')}'`,
          `export MAILFERRY_SANDBOX_CA='${server.caFile}'`,
          `export MAILFERRY_FROM_PASSWORD='${users[0]!.password}'`,
          `export MAILFERRY_TO_PASSWORD='${users[1]!.password}'`,
        ];
        ctx.out(
          [
            `sandbox Dovecot is running in ${server.dir} (Ctrl-C stops it and deletes everything)`,
            `  alice (${seeded.messages} sample messages): ${url('alice')}  or  ${tlsUrl('alice')}`,
            `  bob   (empty):                ${url('bob')}  or  ${tlsUrl('bob')}`,
            `  imap:// on port ${server.port} (STARTTLS), imaps:// on port ${server.tlsPort}; CA: ${server.caFile}`,
            '',
            'In another shell (mailferry is on PATH after npm install -g mailferry; in a clone, use npx mailferry):',
            ...exports.map((e) => `  ${e}`),
            `  mailferry migrate --from "$MAILFERRY_SANDBOX_FROM" --to "$MAILFERRY_SANDBOX_TO"`,
            `  # or over implicit TLS: mailferry migrate --from "$MAILFERRY_SANDBOX_FROM_TLS" --to "$MAILFERRY_SANDBOX_TO_TLS" --from-ca "$MAILFERRY_SANDBOX_CA" --to-ca "$MAILFERRY_SANDBOX_CA"`,
          ].join('\n'),
        );
        // Written last: a script waiting for this file may use the server as soon as it appears.
        // Whole or not at all: a script waits for the file to appear, then reads it.
        if (argv['env-out']) await writeFileAtomic(argv['env-out'], exports.join('\n') + '\n');
        // A pending promise alone does not keep Node running: hold a timer until Ctrl-C.
        const keepAlive = setInterval(() => undefined, 1 << 30);
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        }).finally(() => clearInterval(keepAlive));
      } finally {
        await server.stop();
      }
    },
  };
}

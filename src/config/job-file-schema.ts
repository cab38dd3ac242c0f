import { z } from 'zod';

/** The commands a job may run: the copying ones, whose options a job takes by their CLI names. */
export const JOB_COMMANDS = ['migrate', 'backup', 'restore'] as const;
export type JobCommand = (typeof JOB_COMMANDS)[number];

/** Where an account's password or token comes from; at most one per account. */
const SECRET_FIELDS = ['password-command', 'password-file', 'password-env', 'oauth2', 'oauth2-token-command', 'password'] as const;

/**
 * One account of the file. Its fields are the `--from-*`/`--to-*` options without the side word,
 * plus `password-env` (a variable to read) and a clear `password`, which needs
 * `allow-clear-password: true` (the file's mode is checked by the loader).
 */
export const accountSchema = z
  .strictObject({
    url: z.string().min(1),
    profile: z.string().optional(),
    ca: z.string().optional(),
    authzid: z.string().optional(),
    'password-command': z.string().min(1).optional(),
    'password-file': z.string().min(1).optional(),
    'password-env': z.string().min(1).optional(),
    oauth2: z.string().min(1).optional(),
    'oauth2-token-command': z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    'allow-clear-password': z.boolean().optional(),
  })
  .superRefine((account, ctx) => {
    const given = SECRET_FIELDS.filter((f) => account[f] !== undefined);
    if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[1]!], message: `give one secret source, not ${given.join(' and ')}` });
    if (account.password !== undefined && account['allow-clear-password'] !== true) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'a clear password needs allow-clear-password: true (and a 0600 file); password-command or password-file keeps it out of the file' });
    }
  });

export type Account = z.infer<typeof accountSchema>;

/** A job: the command, and that command's options (checked against its own option table). */
export const jobSchema = z.looseObject({ command: z.enum(JOB_COMMANDS) });

/** The file's top level: jobs are required, accounts only when a job names one. */
export const fileSchema = z.strictObject({
  accounts: z.record(z.string(), z.unknown()).optional(),
  jobs: z.record(z.string(), z.unknown()),
});

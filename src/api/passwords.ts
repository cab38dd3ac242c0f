import { UsageError } from '../errors/errors.js';

export type Word = 'from' | 'to';

/**
 * The passwords a call gives as values or names the environment variables of, per side. The
 * command line's default variables (MAILFERRY_FROM_PASSWORD, MAILFERRY_TO_PASSWORD) are read here
 * and left in place, where the command removes them: a program may call again, to resume. A side
 * that signs in with OAuth2 reads no default variable. Anything else (file, command) is the
 * job's to resolve, as for the command line.
 */
export function sidePasswords(command: string, options: Record<string, unknown>, words: readonly Word[]): Partial<Record<Word, string>> {
  const passwords: Partial<Record<Word, string>> = {};
  for (const word of words) {
    const value = options[`${word}Password`];
    const variable = options[`${word}PasswordEnv`];
    if (value !== undefined) {
      if (typeof value !== 'string') throw new UsageError(`${command}: option ${word}Password: expected a string`);
      passwords[word] = value;
    } else if (variable !== undefined) {
      if (typeof variable !== 'string') throw new UsageError(`${command}: option ${word}PasswordEnv: expected a string`);
      const fromEnv = process.env[variable];
      if (!fromEnv) throw new UsageError(`${command}: option ${word}PasswordEnv: $${variable} is not set`);
      passwords[word] = fromEnv;
    } else if (options[`${word}Oauth2`] === undefined && options[`${word}Oauth2TokenCommand`] === undefined) {
      const fromEnv = process.env[`MAILFERRY_${word.toUpperCase()}_PASSWORD`];
      if (fromEnv) passwords[word] = fromEnv;
    }
  }
  return passwords;
}

import type { ConfiguredJob } from './job-file.js';
import { JOB_TABLES } from './job-file.js';

/** A word as a POSIX shell reads it back unchanged. */
function quote(word: string): string {
  return /^[A-Za-z0-9_/.:@%+=,{}-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An account URL without a password written into it. */
function withoutPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/**
 * The command line that runs the same job (`mailferry config check` prints it): options at their
 * defaults are left out, and no secret is shown, only where it comes from.
 */
export function jobCommandLine(job: ConfiguredJob): string {
  const words: string[] = [];
  for (const [word, secret] of Object.entries(job.secrets)) {
    const variable = `MAILFERRY_${word.toUpperCase()}_PASSWORD`;
    words.push('env' in secret ? `${variable}="$${secret.env}"` : `${variable}=...`);
  }
  words.push('mailferry', job.command);
  for (const [name, spec] of Object.entries(JOB_TABLES[job.command])) {
    const value = job.argv[name];
    if (value === undefined || value === spec.default) continue;
    if (typeof value === 'boolean') words.push(value ? `--${name}` : `--no-${name}`);
    else for (const v of Array.isArray(value) ? value : [value]) words.push(`--${name}`, quote(name === 'from' || name === 'to' ? withoutPassword(String(v)) : String(v)));
  }
  return words.join(' ');
}

import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { JOB_FILE_EXAMPLE } from '../config/job-file-example.js';
import { UsageError } from '../errors/errors.js';
import { defaultConfigPath } from './job-file.js';

/** Writes the example job file, 0600 (it may come to hold a password), never over an existing one. */
export async function writeExample(file: string | undefined): Promise<string> {
  const where = file ?? defaultConfigPath();
  try {
    await mkdir(path.dirname(where), { recursive: true, mode: 0o700 });
    await writeFile(where, JOB_FILE_EXAMPLE, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(code === 'EEXIST' ? `${where} already exists; it is left as it is` : `cannot write ${where}: ${code}`);
  }
  return where;
}

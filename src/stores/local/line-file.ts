import * as fs from 'node:fs/promises';

/** A line-per-record file read back: its complete lines, and whether a torn last line followed. */
export interface LineFile {
  lines: string[];
  /** Bytes of the complete lines, where a torn tail starts. */
  completeBytes: number;
  /** A last line without its newline: a run killed while appending it. */
  torn: boolean;
}

/** Reads a journal-style file (dovecot-uidlist, an mbox index); undefined when it does not exist. */
export async function readLineFile(file: string): Promise<LineFile | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return { lines: complete.split('\n').slice(0, -1), completeBytes: Buffer.byteLength(complete, 'utf8'), torn: complete.length !== text.length };
}

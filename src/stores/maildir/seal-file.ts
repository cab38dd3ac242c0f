import * as fs from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../local/safe-fs.js';
import type { FolderSeal } from './folder-seal.js';

const mark = z.object({ dev: z.string(), ino: z.string(), ctimeNs: z.string(), mtimeNs: z.string() });
const seal = z.object({ uidValidity: z.number(), nextUid: z.number(), messages: z.number(), cur: mark, new: mark });
const sealFileSchema = z.object({ version: z.literal(1), folders: z.record(z.string(), seal) });

/**
 * The seals of a Maildir backup's folders (`folder-seal.ts`), by the folder's path in the backup,
 * in one file beside the checkpoint. Only a backup run writes it, after its transfer, while it
 * holds the checkpoint. It only ever saves work: missing, damaged or of another version, it reads
 * as empty, and every folder is checked file by file and sealed again.
 */
export class SealFile {
  private changed = false;

  private constructor(
    private readonly file: string,
    private readonly seals: Map<string, FolderSeal>,
  ) {}

  static async read(file: string): Promise<SealFile> {
    let seals = new Map<string, FolderSeal>();
    try {
      const parsed = sealFileSchema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
      if (parsed.success) seals = new Map(Object.entries(parsed.data.folders));
    } catch {
      // Missing or not JSON: no seals.
    }
    return new SealFile(file, seals);
  }

  get(folder: string): FolderSeal | undefined {
    return this.seals.get(folder);
  }

  /** The folder's new seal, or none: it was written, or checked without a seal to show for it. */
  put(folder: string, seal: FolderSeal | undefined): void {
    if (seal) this.seals.set(folder, seal);
    else if (!this.seals.delete(folder)) return;
    this.changed = true;
  }

  /** Written (0600, atomically) when a seal changed during the run. */
  async save(): Promise<void> {
    if (!this.changed) return;
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, folders: Object.fromEntries(this.seals) }));
    this.changed = false;
  }
}

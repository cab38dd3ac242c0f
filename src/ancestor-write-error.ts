import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Why a directory could not be created below `dir`'s deepest existing ancestor, if writing there
 * fails: mkdir -p on a read-only file system reports ENOENT for the first level it cannot create,
 * which reads as if something were missing, while this gives EROFS (or EACCES).
 */
export function ancestorWriteError(dir: string): NodeJS.ErrnoException | undefined {
  let ancestor = dirname(dir);
  while (!existsSync(ancestor) && ancestor !== dirname(ancestor)) ancestor = dirname(ancestor);
  try {
    accessSync(ancestor, constants.W_OK);
    return undefined;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}

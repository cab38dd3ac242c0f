import type { FolderTreeResult } from '../jobs/folder-tree.js';
import { stripControl } from './logger.js';

export function folderTreeText(r: FolderTreeResult): string {
  const lines = [
    ...r.created.map((name) => `  ${r.dryRun ? 'would create' : 'created'} ${stripControl(name)}`),
    ...r.existing.map((name) => `  exists ${stripControl(name)}`),
    ...r.refused.map((f) => `  REFUSED ${stripControl(f.folder)}: ${stripControl(f.error)}`),
  ];
  lines.push(
    `just folders${r.dryRun ? ' (dry run, nothing written)' : ''}: ${r.created.length} ${r.dryRun ? 'to create' : 'created'}, ${r.existing.length} already there, ${r.refused.length} refused at ${r.destination}; no message copied`,
  );
  return lines.join('\n');
}

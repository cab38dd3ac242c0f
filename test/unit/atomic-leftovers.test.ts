import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeAtomicLeftovers } from '../../src/stores/local/atomic-leftovers.js';

describe('removeAtomicLeftovers', () => {
  it("removes the FILE.tmp-PID temporaries of killed runs anywhere in a backup, and nothing else", async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'mf-leftovers-'));
    const files = {
      leftovers: ['manifest.json.tmp-4194305', 'Maildir/.Bulk/dovecot-uidlist.tmp-6556', 'Maildir/dovecot-keywords.tmp-12', '.mailferry/mbox-index/Work.mbox.index.tmp-77'],
      kept: ['manifest.json', 'Maildir/.Bulk/dovecot-uidlist', 'Maildir/.Bulk/cur/1.M1.host.tmp-3', 'Maildir/tmp/1.M2.host.tmp-4', `Maildir/dovecot-uidlist.tmp-${process.pid}`, 'notes.tmp-x'],
    };
    for (const f of [...files.leftovers, ...files.kept]) {
      await fs.mkdir(path.dirname(path.join(root, f)), { recursive: true });
      await fs.writeFile(path.join(root, f), '');
    }
    const removed = await removeAtomicLeftovers(root);
    expect(removed.map((p) => path.relative(root, p)).sort()).toEqual([...files.leftovers].sort());
    for (const f of files.kept) await expect(fs.stat(path.join(root, f))).resolves.toBeTruthy();
  });
});

import type { ImapFlow, MailboxObject } from 'imapflow';

/**
 * Makes sure the folder just selected has a UIDNEXT. RFC 3501 lets a server leave it out of the
 * SELECT/EXAMINE answer (Courier does) while its STATUS has it; imapflow's STATUS of the selected
 * folder fills it in. Failing that, the highest UID + 1: a lower bound of the true UIDNEXT, which
 * is what both uses need (the destination's floor above which a lost APPEND is looked for, the
 * source's "settled through" mark).
 */
export async function ensureUidNext(client: ImapFlow, box: MailboxObject): Promise<void> {
  if (box.uidNext) return;
  await client.status(box.path, { uidNext: true });
  if (box.uidNext) return;
  const last = box.exists > 0 ? await client.fetchOne('*', { uid: true }) : undefined;
  box.uidNext = (last ? last.uid : 0) + 1;
}

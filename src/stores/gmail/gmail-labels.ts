import type { FolderInfo, MessageMeta } from '../../domain/types.js';

/**
 * How Gmail's labels reach a destination (`--gmail-labels`):
 * - `folders`: one copy per label folder, as users of folders expect; mail with no label (archived)
 *   goes to the destination's Archive;
 * - `keywords`: one copy in INBOX, Sent, Drafts or Archive, user labels as keywords;
 * - `labels`: to another Gmail, All Mail once with its labels (X-GM-LABELS).
 */
export type GmailLabelMode = 'folders' | 'keywords' | 'labels';
/** What the user asks for; `auto` is `labels` toward a store that keeps labels, else `folders`. */
export type GmailLabelOption = GmailLabelMode | 'auto';
export const GMAIL_LABEL_OPTIONS: readonly GmailLabelOption[] = ['auto', 'folders', 'keywords', 'labels'];

/** Which messages of a Gmail folder a view shows, and what each one is there. */
export type FolderRole =
  /** A label folder in `folders` mode, shown as it is. */
  | { kind: 'plain' }
  /** Spam and Trash: in no other folder, shown as they are. */
  | { kind: 'apart' }
  /** A system folder in `keywords` mode: its messages gain their user labels as keywords. */
  | { kind: 'system' }
  /** All Mail shown as Archive: only the messages no other shown folder has. */
  | { kind: 'archive' }
  /** All Mail in `labels` mode: every message once, with its labels. */
  | { kind: 'all' };

/** Labels that are not a folder a message lives in: Gmail's Important and Starred views. */
const VIEW_LABELS = new Set(['\\Important', '\\Starred']);
/** The labels of the folders `keywords` mode keeps: INBOX, Sent and Drafts. */
const KEYWORD_MODE_FOLDER_LABELS = new Set(['\\Inbox', '\\Sent', '\\Draft']);

/**
 * The folders of a Gmail account as a destination in `mode` should receive them, with the role
 * of each. Hidden: Starred and Important (views of flags and labels, not folders) everywhere;
 * label folders in `keywords` mode; everything but All Mail, Spam and Trash in `labels` mode.
 */
export function presentFolders(folders: FolderInfo[], mode: GmailLabelMode): Array<{ folder: FolderInfo; role: FolderRole }> {
  const out: Array<{ folder: FolderInfo; role: FolderRole }> = [];
  for (const f of folders) {
    const use = f.specialUse;
    if (use === '\\Flagged' || use === '\\Important') continue;
    if (use === '\\Junk' || use === '\\Trash') {
      out.push({ folder: f, role: { kind: 'apart' } });
    } else if (use === '\\All') {
      if (mode === 'labels') out.push({ folder: f, role: { kind: 'all' } });
      // Named for what it holds now: mail that is in no other folder, as other providers' Archive.
      else out.push({ folder: { ...f, components: ['Archive'], specialUse: '\\Archive' }, role: { kind: 'archive' } });
    } else if (mode === 'folders') {
      out.push({ folder: f, role: { kind: 'plain' } });
    } else if (mode === 'keywords' && (isInbox(f) || use === '\\Sent' || use === '\\Drafts')) {
      out.push({ folder: f, role: { kind: 'system' } });
    }
  }
  return out;
}

/** The labels that put a message in a shown folder other than Archive, in `mode`. */
export function folderLabels(m: MessageMeta, mode: GmailLabelMode): string[] {
  const labels = m.labels ?? [];
  if (mode === 'folders') return labels.filter((l) => !VIEW_LABELS.has(l));
  if (mode === 'keywords') return labels.filter((l) => KEYWORD_MODE_FOLDER_LABELS.has(l));
  return [];
}

/** How many shown folders hold this message: how often a copy of its bytes will be wanted. */
export function viewCount(m: MessageMeta, mode: GmailLabelMode): number {
  return mode === 'labels' ? 1 : Math.max(1, folderLabels(m, mode).length);
}

/** Whether a message of All Mail belongs in the Archive view: no shown folder has it. */
export function isArchivedOnly(m: MessageMeta, mode: GmailLabelMode): boolean {
  return folderLabels(m, mode).length === 0;
}

/**
 * A message as a folder of the view shows it: in `keywords` mode its user labels (and Important)
 * become keywords; labels travel only in `labels` mode, so a destination that keeps labels never
 * puts a folder copy into a second folder.
 */
export function presentMessage<T extends MessageMeta>(m: T, mode: GmailLabelMode, role: FolderRole): T {
  const { labels, ...rest } = m;
  if (mode === 'labels') return m;
  if (mode === 'keywords' && role.kind !== 'apart') {
    const keywords = (labels ?? []).filter((l) => !l.startsWith('\\') || l === '\\Important').map(labelKeyword);
    return { ...rest, flags: [...new Set([...m.flags, ...keywords])] } as T;
  }
  return rest as T;
}

/**
 * A label as an IMAP keyword (an atom: no space, no `(){%*"\]`, no control or 8-bit characters):
 * each character that cannot be in one becomes `_`. `\Important` is `$Important`.
 */
export function labelKeyword(label: string): string {
  if (label === '\\Important') return '$Important';
  return label.replace(/[\s(){%*"\\\]\u0000-\u001f\u007f-\uffff]/g, '_');
}

function isInbox(f: FolderInfo): boolean {
  return f.components.length === 1 && f.components[0]!.toUpperCase() === 'INBOX';
}

import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FolderInfo, MessageMeta } from '../../src/domain/types.js';
import { labelKeyword, presentFolders, presentMessage, viewCount } from '../../src/stores/gmail/gmail-labels.js';
import { MessageSpool } from '../../src/stores/gmail/message-spool.js';

const folder = (name: string, specialUse?: FolderInfo['specialUse']): FolderInfo => ({ name, components: name.split('/'), delimiter: '/', specialUse, subscribed: true });
const GMAIL = [
  folder('INBOX'),
  folder('Work'),
  folder('[Gmail]/All Mail', '\\All'),
  folder('[Gmail]/Sent Mail', '\\Sent'),
  folder('[Gmail]/Drafts', '\\Drafts'),
  folder('[Gmail]/Starred', '\\Flagged'),
  folder('[Gmail]/Important', '\\Important'),
  folder('[Gmail]/Spam', '\\Junk'),
  folder('[Gmail]/Trash', '\\Trash'),
];
const shown = (mode: Parameters<typeof presentFolders>[1]) => presentFolders(GMAIL, mode).map((s) => `${s.folder.components.join('/')}:${s.role.kind}`);
const msg = (labels: string[], flags: string[] = []): MessageMeta => ({ uid: 1, size: 1, flags, internalDate: new Date(0), labels });

describe('the Gmail label view', () => {
  it('in folders mode shows every label folder, All Mail as Archive, and never Starred or Important', () => {
    expect(shown('folders')).toEqual(['INBOX:plain', 'Work:plain', 'Archive:archive', '[Gmail]/Sent Mail:plain', '[Gmail]/Drafts:plain', '[Gmail]/Spam:apart', '[Gmail]/Trash:apart']);
  });

  it('in keywords mode keeps only INBOX, Sent, Drafts, Archive, Spam and Trash', () => {
    expect(shown('keywords')).toEqual(['INBOX:system', 'Archive:archive', '[Gmail]/Sent Mail:system', '[Gmail]/Drafts:system', '[Gmail]/Spam:apart', '[Gmail]/Trash:apart']);
  });

  it('in labels mode copies All Mail (once per message) with Spam and Trash', () => {
    expect(shown('labels')).toEqual(['[Gmail]/All Mail:all', '[Gmail]/Spam:apart', '[Gmail]/Trash:apart']);
  });

  it('counts how many shown folders want a message, Important and Starred not being folders', () => {
    expect(viewCount(msg(['\\Inbox', 'Work', '\\Important', '\\Starred']), 'folders')).toBe(2);
    expect(viewCount(msg(['\\Important']), 'folders')).toBe(1);
    expect(viewCount(msg(['\\Inbox', 'Work']), 'keywords')).toBe(1);
    expect(viewCount(msg(['\\Inbox', '\\Sent', 'Work']), 'labels')).toBe(1);
  });

  it('turns labels into keywords only in keywords mode, and passes labels on only in labels mode', () => {
    const m = msg(['\\Inbox', 'Work/Big Project', '\\Important'], ['\\Seen']);
    expect(presentMessage(m, 'keywords', { kind: 'system' })).toEqual({ uid: 1, size: 1, internalDate: new Date(0), flags: ['\\Seen', 'Work/Big_Project', '$Important'] });
    expect(presentMessage(m, 'folders', { kind: 'plain' }).labels).toBeUndefined();
    expect(presentMessage(m, 'labels', { kind: 'all' }).labels).toEqual(m.labels);
  });

  it('makes an IMAP atom of any label', () => {
    expect(labelKeyword('Ärger (alt) "x" 50%*]')).toBe('_rger__alt___x__50___');
  });
});

describe('the message spool', () => {
  it('keeps a message for as many more readers as announced, in a private directory, then removes it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mf-spool-test-'));
    const spool = new MessageSpool(root);
    expect(spool.claim('42')).toBe(true);
    expect(spool.claim('42')).toBe(false);
    const waiting = spool.settled('42');
    await spool.put('42', Buffer.from('body'), 2);
    await waiting;
    const [dir] = readdirSync(root);
    expect(statSync(join(root, dir!)).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, dir!, readdirSync(join(root, dir!))[0]!)).mode & 0o777).toBe(0o600);
    expect((await spool.take('42'))?.toString()).toBe('body');
    expect((await spool.take('42'))?.toString()).toBe('body');
    expect(await spool.take('42')).toBeUndefined();
    await spool.close();
    expect(existsSync(join(root, dir!))).toBe(false);
  });

  it('lets waiters fetch for themselves when the claimed fetch never brought the message', async () => {
    const spool = new MessageSpool(mkdtempSync(join(tmpdir(), 'mf-spool-test-')));
    spool.claim('7');
    const waiting = spool.settled('7');
    spool.release('7');
    await waiting;
    expect(await spool.take('7')).toBeUndefined();
    expect(spool.claim('7')).toBe(true);
    await spool.close();
  });
});

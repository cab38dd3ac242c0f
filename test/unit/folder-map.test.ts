import { describe, expect, it } from 'vitest';
import { planFolders, type FolderSelection } from '../../src/engine/folder-map.js';
import type { FolderInfo, SpecialUse } from '../../src/domain/types.js';

function folder(name: string, delimiter = '/', specialUse?: SpecialUse): FolderInfo {
  return { name, components: name.split(delimiter), delimiter, specialUse, subscribed: true };
}
const none: FolderSelection = { include: [], exclude: [], map: [] };

describe('planFolders', () => {
  it('keeps the hierarchy and joins it with the destination delimiter', () => {
    const plan = planFolders([folder('Work/Projects/2024')], [folder('INBOX', '.')], '.', none);
    expect(plan[0]!.destComponents).toEqual(['Work', 'Projects', '2024']);
    expect(plan[0]!.dest).toBeUndefined();
  });

  it('maps special-use folders to the destination folder of that use, whatever its name', () => {
    const dest = [folder('INBOX'), folder('Gesendete Elemente', '/', '\\Sent')];
    const plan = planFolders([folder('Sent Items', '/', '\\Sent')], dest, '/', none);
    expect(plan[0]!.dest?.name).toBe('Gesendete Elemente');
  });

  it('replaces the destination delimiter inside a name instead of creating a deeper hierarchy', () => {
    const plan = planFolders([folder('a.b/c')], [folder('INBOX', '.')], '.', none);
    expect(plan[0]!.destComponents).toEqual(['a_b', 'c']);
    expect(plan[0]!.note).toMatch(/replaced/);
  });

  it('finds existing destination folders, INBOX case-insensitively', () => {
    const plan = planFolders([folder('inbox'), folder('Work')], [folder('INBOX'), folder('Work')], '/', none);
    expect(plan.map((p) => p.dest?.name)).toEqual(['INBOX', 'Work']);
  });

  it('honours --folder, --exclude and --map', () => {
    const source = [folder('INBOX'), folder('Work'), folder('Work/Old'), folder('Spam')];
    const sel: FolderSelection = { include: [], exclude: [/^Spam$/, /Old/], map: [{ from: 'Work', to: 'Archive/Work' }] };
    const plan = planFolders(source, [folder('INBOX')], '/', sel);
    expect(plan.map((p) => p.destComponents.join('/'))).toEqual(['INBOX', 'Archive/Work']);
    const only = planFolders(source, [folder('INBOX')], '/', { ...none, include: ['Work/Old'] });
    expect(only.map((p) => p.source.name)).toEqual(['Work/Old']);
  });

  it('refuses a --map that names no source folder, as --folder; a profile map applies only where its folder exists', () => {
    const source = [folder('INBOX'), folder('Work')];
    expect(() => planFolders(source, [], '/', { ...none, map: [{ from: 'Nope', to: 'Old' }] })).toThrow(/^--map Nope=Old: no such folder at the source$/);
    const profiled = planFolders(source, [], '/', { ...none, map: [{ from: 'Files', to: 'Files_renamed', ifPresent: true }] });
    expect(profiled.map((p) => p.destComponents.join('/'))).toEqual(['INBOX', 'Work']);
  });

  it('--recursive takes subfolders, and --into puts everything under a prefix, special-use ones too', () => {
    const source = [folder('INBOX'), folder('Work'), folder('Work/Old'), folder('Work/Old/2019'), folder('Workshop'), folder('Sent', '/', '\\Sent')];
    const dest = [folder('INBOX', '.'), folder('Sent', '.', '\\Sent')];
    const plan = planFolders(source, dest, '.', { ...none, include: ['Work', 'Sent'], recursive: true, into: ['Restored', '2026-11-25'] });
    expect(plan.map((p) => p.destComponents.join('/'))).toEqual(['Restored/2026-11-25/Work', 'Restored/2026-11-25/Work/Old', 'Restored/2026-11-25/Work/Old/2019', 'Restored/2026-11-25/Sent']);
    expect(plan.every((p) => p.dest === undefined)).toBe(true);
  });

  it('refuses a --folder that does not exist', () => {
    expect(() => planFolders([folder('INBOX')], [], '/', { ...none, include: ['Nope'] })).toThrow(/no such folder/);
  });
});

import { describe, expect, it } from 'vitest';
import { planFolders, type FolderSelection } from '../../src/engine/folder-map.js';
import { parseSelection } from '../../src/cli/options.js';
import type { FolderInfo, SpecialUse } from '../../src/domain/types.js';

function folder(name: string, delimiter = '/', specialUse?: SpecialUse): FolderInfo {
  return { name, components: name.split(delimiter), delimiter, specialUse, subscribed: true };
}
const maps = (...map: string[]): FolderSelection => parseSelection({ map });
const plan = (source: FolderInfo[], sel: FolderSelection, destDelimiter = '/') =>
  planFolders(source, [folder('INBOX', destDelimiter)], destDelimiter, sel).map((p) => `${p.source.name} -> ${p.destComponents.join('/')}`);

describe("--map '^PATTERN=DEST' (imapsync's --regextrans2)", () => {
  const source = [folder('INBOX'), folder('Work'), folder('Work/2024'), folder('Work/2024/Q1'), folder('Workshop')];

  it('replaces what the pattern matches by DEST with its groups, and leaves other folders alone', () => {
    expect(plan(source, maps('^Work/(.*)$=Old/$1'))).toEqual(['INBOX -> INBOX', 'Work -> Work', 'Work/2024 -> Old/2024', 'Work/2024/Q1 -> Old/2024/Q1', 'Workshop -> Workshop']);
    expect(plan(source, maps('^Work(/|$)=Archive/Work$1'))).toContain('Work/2024/Q1 -> Archive/Work/2024/Q1');
  });

  it('takes a literal map first, then the first regex that matches; a SRC without ^ stays literal', () => {
    const sel = maps('^Work/(.*)$=Old/$1', 'Work/2024=Kept', '^Work/2024/(.*)$=Never/$1');
    expect(plan(source, sel)).toEqual(['INBOX -> INBOX', 'Work -> Work', 'Work/2024 -> Kept', 'Work/2024/Q1 -> Old/2024/Q1', 'Workshop -> Workshop']);
    expect(parseSelection({ map: ['a=b'] })).toMatchObject({ map: [{ from: 'a', to: 'b' }], regexMap: [] });
  });

  it('splits at the first = that is neither escaped nor a lookahead', () => {
    expect(plan([folder('a=b'), folder('a=c')], maps('^a\\=(b)$=x/$1'))).toEqual(['a=b -> x/b', 'a=c -> a=c']);
    expect(plan([folder('Work/x'), folder('Work/y')], maps('^Work/(?=x)(.*)$=Old/$1'))).toEqual(['Work/x -> Old/x', 'Work/y -> Work/y']);
  });

  it('refuses, before anything is copied, a map that sends two folders to one name', () => {
    expect(() => plan(source, maps('^Work.*$=Old'))).toThrow(/--map \^Work\.\*\$=Old: sends both Work and Work\/2024 to Old/);
    // Into a name another folder keeps: their mail would merge.
    expect(() => plan(source, maps('^Workshop$=Work'))).toThrow(/sends both Work and Workshop to Work/);
    expect(() => plan([folder('INBOX'), folder('Old/Inbox')], maps('^Old/Inbox$=inbox'))).toThrow(/sends both INBOX and Old\/Inbox to inbox/);
  });

  it('refuses names the destination cannot hold: an empty level, its delimiter inside a level, a control character', () => {
    expect(() => plan(source, maps('^Work/(.*)$=Old//$1'))).toThrow(/Work\/2024 would become "Old\/\/2024", which has an empty level/);
    expect(() => plan(source, maps('^Work/(.*)$=$1/'))).toThrow(/empty level/);
    expect(() => plan(source, maps('^Work/(.*)$=Old.$1'), '.')).toThrow(/"Old\.2024", and '\.' is the destination's hierarchy delimiter/);
    expect(plan(source, maps('^Work/(.*)$=Old/$1'), '.')).toContain('Work/2024/Q1 -> Old/2024/Q1');
    expect(() => plan(source, maps('^Work/(.*)$=Old\t$1'))).toThrow(/control character/);
  });

  it('refuses a pattern that matches nothing, and one that is no regular expression', () => {
    expect(() => plan(source, maps('^Private/(.*)$=Old/$1'))).toThrow(/matches no source folder/);
    expect(() => maps('^Work/(.*=Old')).toThrow(/not a valid regular expression/);
    expect(() => maps('^Work')).toThrow(/expected '\^PATTERN=DEST'/);
  });
});

import type { FolderComparison, MessageRef } from '../engine/verify.js';
import type { VerifyResult } from '../jobs/verify.js';
import { stripControl } from './logger.js';
import { counted } from './plural.js';

/** Human-readable verify report: a line per folder, then each difference naming the message. */
export function verifyText(result: VerifyResult): string {
  const lines: string[] = [];
  for (const f of result.folders) {
    const problems = f.missing.length + f.extra.length + f.duplicated.length + f.flagDiffs.length + f.dateDiffs.length;
    const head = `${clean(f.source)} -> ${clean(f.destination)}: ${f.sourceCount} vs ${f.destCount}`;
    if (f.error) lines.push(`${head}: ERROR ${clean(f.error)}`);
    else if (problems === 0) lines.push(`${head}: equal${f.altered.length ? ` (${f.altered.length} altered by the server)` : ''}`);
    else {
      lines.push(`${head}: ${summary(f)}`);
      for (const m of f.missing) lines.push(`  missing     ${name(m)}`);
      for (const m of f.extra) lines.push(`  extra       ${name(m)}`);
      for (const m of f.duplicated) lines.push(`  duplicated  ${name(m)}`);
      for (const d of f.flagDiffs) lines.push(`  flags       ${name(d.source)}: (${d.source.flags.join(' ')}) vs (${d.dest.flags.join(' ')}) at UID ${d.dest.uid}`);
      for (const d of f.dateDiffs) lines.push(`  date        ${name(d.source)}: ${iso(d.source.internalDate)} vs ${iso(d.dest.internalDate)} at UID ${d.dest.uid}`);
    }
    for (const a of f.altered) lines.push(`  altered     ${name(a.source)}: stored by the server as UID ${a.dest.uid}, ${a.dest.size} bytes`);
  }
  const mode = result.quick ? 'quick (Message-ID, size, date, flags)' : 'full (SHA-256, flags, date)';
  lines.push(`verify ${mode}: ${result.equal ? 'EQUAL' : 'DIFFERENT'}; ${counted(result.folders.length, 'folder')}, ${result.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

function summary(f: FolderComparison): string {
  const parts: Array<[number, string, string]> = [
    [f.missing.length, 'missing', 'missing'],
    [f.extra.length, 'extra', 'extra'],
    [f.duplicated.length, 'duplicated', 'duplicated'],
    [f.flagDiffs.length, 'flag difference', 'flag differences'],
    [f.dateDiffs.length, 'date difference', 'date differences'],
    [f.altered.length, 'altered by the server', 'altered by the server'],
  ];
  return parts.filter(([n]) => n > 0).map(([n, one, many]) => counted(n, one, many)).join(', ');
}

function name(m: MessageRef): string {
  const bits = [`UID ${m.uid}`, m.messageId ? `Message-ID ${m.messageId}` : 'no Message-ID', m.subject ? `"${m.subject}"` : '', counted(m.size, 'byte')];
  return clean(bits.filter(Boolean).join(', '));
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function clean(text: string): string {
  return stripControl(text);
}

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const profileFiles = readdirSync(new URL('profiles/', root)).filter((f) => f.endsWith('.json'));

/** Every string in a `source` array anywhere in a profile. */
function citations(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(citations);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => (key === 'source' && Array.isArray(value) ? value.filter((v) => typeof v === 'string') : citations(value)));
}

describe("the profiles' sources", () => {
  it.each(profileFiles)('%s cites only files of this repository that exist, at headings they have', (file) => {
    const cited = citations(JSON.parse(readFileSync(new URL(`profiles/${file}`, root), 'utf8')));
    expect(cited.length).toBeGreaterThan(0);
    for (const text of cited) {
      const ref = /^((?:docs|design|src)\/[\w./-]+\.md)(?:#([\w-]+))?/.exec(text);
      if (!ref) continue;
      const path = new URL(ref[1]!, root);
      expect(existsSync(path), `${file}: "${text}" cites ${ref[1]}, which is not in the repository`).toBe(true);
      if (ref[2]) {
        const anchors = [...readFileSync(path, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\w\s-]/g, '').replace(/\s+/g, '-'));
        expect(anchors, `${file}: "${text}" cites #${ref[2]}`).toContain(ref[2]);
      }
    }
  });
});

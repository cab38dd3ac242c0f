import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accountSchema } from '../../src/config/job-file-schema.js';
import { JOB_FILE_EXAMPLE } from '../../src/config/job-file-example.js';

const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');

describe('docs/config.md', () => {
  it('shows the example mailferry config init writes, as it is', () => {
    expect(doc).toContain(JOB_FILE_EXAMPLE);
  });

  it('documents every field of an account', () => {
    const fields = Object.keys(accountSchema.shape);
    expect(fields.filter((f) => !doc.includes(`| \`${f}\` |`))).toEqual([]);
  });
});

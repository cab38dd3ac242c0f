import { z } from 'zod';
import { parseAccountUrl } from '../config/account-url.js';
import { parseDateOption } from '../cli/date-option.js';
import { parseSelection } from '../cli/options.js';
import { isRegexMap, parseRegexMap } from '../engine/regex-map.js';
import { MailferryError } from '../errors/errors.js';

/** The fields of a row (CSV columns, YAML keys); `ROW_DEFAULT_FIELDS` may also be campaign-wide defaults in YAML. */
export const ROW_FIELDS = ['id', 'from', 'to', 'folder', 'exclude', 'map', 'since', 'profile', 'from_password', 'to_password'] as const;
export const LIST_VALUED = ['folder', 'exclude', 'map'] as const;
export const PASSWORD_FIELDS = ['from_password', 'to_password'] as const;
export type RowField = (typeof ROW_FIELDS)[number];

/** A parser of the single-run options, its UsageError becoming a schema issue. */
function accepts<T>(check: (value: T) => unknown): (value: T, ctx: z.RefinementCtx) => void {
  return (value, ctx) => {
    try {
      check(value);
    } catch (err) {
      if (!(err instanceof MailferryError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  };
}

const list = z.array(z.string().min(1));

/** The optional per-row options, as the single-run options check them. */
export const rowOptionsShape = {
  folder: list.optional(),
  exclude: list.superRefine(accepts((v: string[]) => parseSelection({ exclude: v }))).optional(),
  map: list.superRefine(accepts((v: string[]) => v.forEach((m) => (isRegexMap(m) ? parseRegexMap(m) : parseSelection({ map: [m] }))))).optional(),
  since: z.string().min(1).superRefine(accepts((v: string) => parseDateOption(v, '--since', new Date()))).optional(),
  profile: z.string().min(1).optional(),
};

const ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/;

/** One row, `to` being an account URL (migrate) or a directory (backup). */
export function rowSchema(toIsUrl: boolean) {
  const accountUrl = (field: string) =>
    z.string().min(1).superRefine(accepts((v: string) => {
      const e = parseAccountUrl(v, field);
      if (e.password !== undefined) throw new MailferryError(`${field}: no password in the URL (a ${field}_password column, with --allow-passwords-in-list, or a password option)`, 'usage');
    }));
  return z.strictObject({
    id: z.string().regex(ID, 'letters, digits and . _ @ + - (at most 100, a letter or digit first)').optional(),
    from: accountUrl('from'),
    to: toIsUrl ? accountUrl('to') : z.string().min(1),
    ...rowOptionsShape,
    from_password: z.string().min(1).optional(),
    to_password: z.string().min(1).optional(),
  });
}

export type Row = z.infer<ReturnType<typeof rowSchema>>;

/** The YAML list's `defaults:`: the optional per-row options, for every row that does not give its own. */
export const defaultsSchema = z.strictObject(rowOptionsShape);

/** An IMAP command attribute as imapflow's compiler takes it; an array is a parenthesised list. */
export type SearchAttribute = { type: 'ATOM' | 'STRING' | 'SEQUENCE'; value: string } | SearchAttribute[];

/**
 * SEARCH criteria as the user typed them (RFC 3501 section 6.4.4), as command attributes: words,
 * "quoted strings", (groups) and sequence sets, each sent as written. Only the syntax is checked
 * here (quotes and parentheses balance); the server judges the keys.
 */
export function searchAttributes(criteria: string): SearchAttribute[] {
  const tokens = criteria.match(/"(?:[^"\\]|\\.)*"?|[()]|[^\s()"]+/g) ?? [];
  const stack: SearchAttribute[][] = [[]];
  for (const t of tokens) {
    if (t === '(') stack.push([]);
    else if (t === ')') {
      const group = stack.pop()!;
      if (stack.length === 0) throw new Error('a ")" without its "("');
      stack[stack.length - 1]!.push(group);
    } else if (t.startsWith('"')) {
      if (t.length < 2 || !t.endsWith('"') || t.endsWith('\\"')) throw new Error('a quoted string is not closed');
      stack[stack.length - 1]!.push({ type: 'STRING', value: t.slice(1, -1).replace(/\\(.)/g, '$1') });
    } else if (/^[\d*][\d*:,]*$/.test(t)) stack[stack.length - 1]!.push({ type: 'SEQUENCE', value: t });
    else if (/^[\x21-\x7e]+$/.test(t)) stack[stack.length - 1]!.push({ type: 'ATOM', value: t });
    else stack[stack.length - 1]!.push({ type: 'STRING', value: t });
  }
  if (stack.length !== 1) throw new Error('a "(" is not closed');
  if (stack[0]!.length === 0) throw new Error('no criteria');
  return stack[0]!;
}

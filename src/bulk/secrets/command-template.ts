import { UsageError } from '../../errors/errors.js';

/** What a password command template may name; each is filled in from the account's row. */
export const PLACEHOLDERS = ['user', 'host', 'id'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type TemplateValues = Partial<Record<Placeholder, string>>;

/**
 * A command line split into words once, from the template alone: a row's values are put inside
 * the words afterwards, so no value can add a word, quote, redirect or command. No shell runs.
 */
export interface CommandTemplate {
  words: string[];
  /** The placeholders the words use. */
  uses: Set<Placeholder>;
}

/** Characters that only a shell gives a meaning to: refused unquoted, since none runs. */
const SHELL_ONLY = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`']);

/**
 * Splits a command line as a POSIX shell splits simple words: blanks separate, '...' is literal,
 * "..." keeps blanks (\" \\ \$ \` escaped inside), a backslash outside quotes takes the next
 * character as it is. Anything that would need a shell (pipes, redirects, $, backticks) is refused.
 */
export function splitWords(text: string, option: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`${option}: unterminated ' in the command`);
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) {
        const d = text[i]!;
        if (d === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i];
        else if (d === '$' || d === '`') throw needsShell(d, option);
        else word += d;
      }
      if (i >= text.length) throw new UsageError(`${option}: unterminated " in the command`);
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new UsageError(`${option}: the command ends with a lone \\`);
      word += text[++i];
    } else if (SHELL_ONLY.has(c)) {
      throw needsShell(c, option);
    } else {
      word += c;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function needsShell(c: string, option: string): UsageError {
  return new UsageError(`${option}: ${c} needs a shell and none runs; quote it, or run sh -c 'SCRIPT' sh {user} and use "$1" in SCRIPT`);
}

const PLACEHOLDER = /\{([a-z]+)\}/g;

export function parseCommandTemplate(text: string, option: string): CommandTemplate {
  const words = splitWords(text, option);
  if (words.length === 0) throw new UsageError(`${option}: the command is empty`);
  const uses = new Set<Placeholder>();
  for (const [n, word] of words.entries()) {
    for (const m of word.matchAll(PLACEHOLDER)) {
      const name = m[1] as Placeholder;
      if (!PLACEHOLDERS.includes(name)) throw new UsageError(`${option}: unknown placeholder {${m[1]}}; there are ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
      // A row must never choose the program that runs.
      if (n === 0) throw new UsageError(`${option}: the program (the first word) cannot hold a placeholder`);
      uses.add(name);
    }
  }
  return { words, uses };
}

/**
 * The command line for one account: each placeholder replaced inside its word, whatever the
 * value holds. `where` names the row for messages.
 */
export function fillTemplate(template: CommandTemplate, values: TemplateValues, option: string, where: string): string[] {
  for (const name of template.uses) {
    const value = values[name];
    if (value === undefined || value === '') throw new UsageError(`${option} uses {${name}}, which ${where} does not give`);
    // An argument cannot carry NUL.
    if (value.includes('\0')) throw new UsageError(`${option}: the {${name}} of ${where} holds a NUL character`);
  }
  return template.words.map((word) => {
    const filled = word.replace(PLACEHOLDER, (_, name: Placeholder) => values[name]!);
    // A value must not turn a word into an option of the program (`--output=...`).
    if (filled.startsWith('-') && !word.startsWith('-')) throw new UsageError(`${option}: a value of ${where} would start the argument ${JSON.stringify(word)} with '-'; put a prefix or -- before it`);
    return filled;
  });
}

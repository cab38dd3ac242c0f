import stringWidth from 'string-width';

/**
 * Columns on a terminal are counted in cells, not characters: a Japanese character or an emoji
 * takes two, a combining accent none. `padEnd` and `[...s].length` count characters, so a
 * Japanese folder name pushed every later column out of line.
 */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** `text` followed by spaces up to `width` cells. */
export function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}

/** Exactly `width` cells: a longer text keeps its end (the most specific part of a folder path) after '…'. */
export function fitToWidth(text: string, width: number): string {
  if (stringWidth(text) <= width) return padToWidth(text, width);
  // Whole graphemes only: an emoji sequence or a letter with its accent is never split.
  const graphemes = [...new Intl.Segmenter().segment(text)].map((s) => s.segment);
  let tail = '';
  for (let i = graphemes.length - 1; i >= 0 && stringWidth(graphemes[i] + tail) <= width - 1; i--) tail = graphemes[i] + tail;
  return padToWidth('…' + tail, width);
}

/** One problem of an account list, printed `FILE:LINE[:COLUMN]: message` (line 0: the file as a whole). */
export interface ListProblem {
  line: number;
  column?: number;
  message: string;
}

export function problemLine(file: string, p: ListProblem): string {
  const where = p.line > 0 ? `:${p.line}${p.column !== undefined ? `:${p.column}` : ''}` : '';
  return `${file}${where}: ${p.message}`;
}

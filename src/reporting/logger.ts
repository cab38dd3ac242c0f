/**
 * Diagnostics on stderr, separate from the report on stdout. Every line passes through the
 * redactor, so a secret that reached a log call by mistake still never reaches the terminal.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Where a copy of the log goes (a log file): each line with its level, already redacted. */
export type LineSink = (level: LogLevel, text: string) => void;

export class StderrLogger implements Logger {
  private readonly secrets = new Set<string>();
  private readonly copies = new Set<{ level: LogLevel; sink: LineSink }>();

  constructor(
    private readonly level: LogLevel,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  ) {}

  /** Registers a value that must never appear in output (a password, a token), also in base64. */
  addSecret(secret: string): void {
    if (secret.length < 3) return;
    this.secrets.add(secret);
    this.secrets.add(Buffer.from(secret).toString('base64'));
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  /**
   * Also gives every line at `level` or above to `sink`, whatever the terminal's level (--quiet
   * keeps a log file whole), until the returned function is called.
   */
  copyTo(level: LogLevel, sink: LineSink): () => void {
    const copy = { level, sink };
    this.copies.add(copy);
    return () => this.copies.delete(copy);
  }

  debug(message: string): void {
    this.log('debug', message);
  }
  info(message: string): void {
    this.log('info', message);
  }
  warn(message: string): void {
    this.log('warn', message);
  }
  error(message: string): void {
    this.log('error', message);
  }

  private log(level: LogLevel, message: string): void {
    const copies = [...this.copies].filter((copy) => ORDER[level] >= ORDER[copy.level]);
    const shown = ORDER[level] >= ORDER[this.level];
    if (!shown && copies.length === 0) return;
    const text = this.redact(stripControl(message));
    for (const copy of copies) copy.sink(level, text);
    const prefix = level === 'info' ? '' : `${level === 'warn' ? 'warning' : level}: `;
    if (shown) this.write(prefix + text);
  }
}

/** Server-supplied text (folder names, NO responses) must not drive the terminal. */
export function stripControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

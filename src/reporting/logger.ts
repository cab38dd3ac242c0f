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

export class StderrLogger implements Logger {
  private readonly secrets = new Set<string>();

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
    if (ORDER[level] < ORDER[this.level]) return;
    const prefix = level === 'info' ? '' : `${level === 'warn' ? 'warning' : level}: `;
    this.write(this.redact(prefix + stripControl(message)));
  }
}

/** Server-supplied text (folder names, NO responses) must not drive the terminal. */
export function stripControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

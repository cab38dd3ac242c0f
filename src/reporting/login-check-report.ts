import type { LoginCheck } from '../jobs/check-login.js';
import { stripControl } from './logger.js';

/** The capabilities a migration's speed or fidelity depends on, in the order `--check-login` shows them. */
const WATCHED = ['IMAP4rev1', 'IMAP4rev2', 'UIDPLUS', 'MULTIAPPEND', 'LITERAL+', 'LITERAL-', 'CONDSTORE', 'QRESYNC', 'SPECIAL-USE', 'LIST-STATUS', 'APPENDLIMIT', 'COMPRESS', 'ID', 'BINARY', 'X-GM-EXT-1'];

/** A capability as the server offers it: true, its values (`COMPRESS=DEFLATE`, `APPENDLIMIT=…`), or false. */
export function offered(capabilities: string[], name: string): boolean | string {
  const upper = name.toUpperCase();
  const values = capabilities.filter((c) => c.toUpperCase().startsWith(`${upper}=`)).map((c) => c.slice(upper.length + 1));
  if (values.length > 0) return values.join(' ');
  return capabilities.some((c) => c.toUpperCase() === upper);
}

export function loginCheckJson(checks: LoginCheck[]): object {
  return Object.fromEntries(
    checks.map((c) => [
      c.side === 'dest' ? 'destination' : 'source',
      { account: c.account, capabilities: Object.fromEntries(WATCHED.map((name) => [name, offered(c.capabilities, name)])), namespace: c.namespace ?? null, all: c.capabilities },
    ]),
  );
}

export function loginCheckText(checks: LoginCheck[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.side === 'dest' ? 'destination' : 'source'} ${c.account}: logged in`);
    for (const name of WATCHED) {
      const has = offered(c.capabilities, name);
      lines.push(`  ${name.padEnd(12)} ${has === true ? 'yes' : has === false ? 'no' : stripControl(has)}`);
    }
    const ns = c.namespace;
    lines.push(`  personal namespace: ${ns ? `prefix ${JSON.stringify(stripControl(ns.prefix))}, delimiter ${ns.delimiter === null ? 'none (flat)' : JSON.stringify(ns.delimiter)}` : 'not announced (no NAMESPACE)'}`);
  }
  return lines.join('\n');
}

import type { ImapFlow } from 'imapflow';
import { encodePath, formatDateTime, formatFlag, getStatusCode } from 'imapflow/lib/tools.js';
import type { AppendRequest } from '../../domain/types.js';

/** imapflow's internal command runner, which its own commands use; typed for what we need. */
interface RawCommandRunner {
  exec(command: string, attributes: unknown[], options?: object): Promise<{ response: ImapResponse; next(): void }>;
}
interface ImapResponse {
  attributes?: Array<{ section?: Array<{ value?: unknown }> }>;
}

/**
 * APPEND of one message or, with MULTIAPPEND (RFC 3502), of many in one command. With LITERAL+ (RFC 7888) imapflow
 * sends every literal without waiting for a continuation, so a whole batch costs one round trip
 * instead of one or two per message; imapflow itself only appends one message per command.
 *
 * The command is atomic: on NO the server stored none of them, and the caller retries them one by
 * one to learn which one it refuses. Returns the new UIDs when the server sends APPENDUID.
 */
export async function multiAppend(client: ImapFlow, path: string, messages: AppendRequest[], pipelined = false): Promise<Array<number | undefined>> {
  const binary = client.capabilities.has('BINARY');
  const attributes: unknown[] = [{ type: 'ATOM', value: encodePath(client, path) }];
  for (const m of messages) {
    attributes.push(...appendAttributes(m));
    // A NUL byte is only legal in a literal8 (RFC 3516); imapflow's own append does the same.
    attributes.push({ type: 'LITERAL', value: m.raw, isLiteral8: binary && m.raw.includes(0) });
  }
  // literalPlus: see imapflow-client.ts; only where the server promised to take them.
  // pipelined: written behind the command before it without waiting for its answer (imapflow-pipeline.ts).
  const uids = await sendAppend(client, attributes, { literalPlus: client.capabilities.has('LITERAL+'), pipelined });
  return uids.length === messages.length ? uids : messages.map(() => undefined);
}

/** The flags and date of one message of an APPEND, as its attributes before the literal. */
export function appendAttributes(m: Pick<AppendRequest, 'flags' | 'internalDate'>): unknown[] {
  return [m.flags.map((f) => formatFlag(f)).filter((f): f is string => !!f).map((value) => ({ type: 'ATOM', value })), { type: 'STRING', value: formatDateTime(m.internalDate) }];
}

/** Sends an APPEND; answers the new UIDs the server gave (APPENDUID), none when it gave none. */
export async function sendAppend(client: ImapFlow, attributes: unknown[], options: { literalPlus: boolean; pipelined?: boolean }): Promise<number[]> {
  let result: { response: ImapResponse; next(): void };
  try {
    result = await (client as unknown as RawCommandRunner).exec('APPEND', attributes, options);
  } catch (err) {
    // imapflow's commands put the response code (OVERQUOTA, LIMIT) here; the raw runner does not.
    const e = err as { response?: unknown; serverResponseCode?: string };
    const code = getStatusCode(e.response as Parameters<typeof getStatusCode>[0]);
    if (code && !e.serverResponseCode) e.serverResponseCode = code;
    throw err;
  }
  const section = result.response.attributes?.[0]?.section;
  result.next();
  if (String(section?.[0]?.value ?? '').toUpperCase() !== 'APPENDUID') return [];
  return expandUidSet(String(section?.[2]?.value ?? ''));
}

/** "5:7,9" → [5, 6, 7, 9], in the order the server assigned them. */
function expandUidSet(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b] = part.split(':').map(Number);
    if (!a) return [];
    const end = b ?? a;
    for (let u = a; a <= end ? u <= end : u >= end; u += a <= end ? 1 : -1) out.push(u);
  }
  return out;
}

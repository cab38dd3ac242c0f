// Cutting proxied IMAP connections at chosen places (used by imap-fault-proxy.ts). A cut is FIN
// (an orderly close, as a server shutting down sends) or RST (a reset, as a NAT box or a crashed
// peer gives); the bytes before the cut point are delivered, nothing after.

export type CutKind = 'fin' | 'rst';
export type Direction = 'up' | 'down';

export type CutPoint =
  /** After this many bytes in one direction: on one connection, or counted over all of them together. */
  | { after: number; direction: Direction; connection?: number }
  /** In the middle of the nth (1-based) message body the server sends (a `BODY[] {N}` literal). */
  | { inside: 'fetch-literal'; nth?: number }
  /** In the middle of the first message literal of the nth APPEND the client sends. */
  | { inside: 'append-literal'; nth?: number }
  /** The server carried out the nth command matching `command`, but its tagged answer never arrives. */
  | { beforeReplyTo: RegExp; nth?: number }
  /** Halfway through the client's LOGIN or AUTHENTICATE on the nth connection that logs in. */
  | { inside: 'login'; nth?: number };

export interface Cut {
  kind: CutKind;
  at: CutPoint;
}

export interface RandomCuts {
  /** One connection in this many is cut. */
  oneIn: number;
  /**
   * Where: a byte offset below this on that connection, log-uniform (as likely in the login's
   * first hundred bytes as in a message's last megabytes), mostly (3 in 4) in the server's direction.
   */
  maxBytes: number;
  random: () => number;
}

/** For connection `n`: a cut at a random point of it, or (most often) none. */
export function randomCut(plan: RandomCuts, n: number): Cut | undefined {
  if (plan.random() * plan.oneIn >= 1) return undefined;
  const direction = plan.random() < 0.25 ? 'up' : 'down';
  return { kind: plan.random() < 0.5 ? 'fin' : 'rst', at: { after: Math.floor(plan.maxBytes ** plan.random()), direction, connection: n } };
}

/** Shared by every connection of a proxy: bytes so far per direction, and the cuts already made. */
export interface CutCounters {
  up: number;
  down: number;
  fired: Set<Cut>;
  /** How often each cut's trigger was seen, for `nth`. */
  seen: Map<Cut, number>;
}

interface CutActions {
  deliver(direction: Direction, prefix: Buffer): void;
  cut(kind: CutKind, what: string): void;
}

// A whole message, or a piece of one (`BODY[]<origin>`, a streamed message).
const FETCH_LITERAL = /BODY\[\](?:<\d+>)? \{(\d+)\}\r\n/;
const APPEND_LITERAL = /^\S+ APPEND [^\r\n]*?\{(\d+)\+?\}\r\n/m;
const LOGIN = /^\S+ (LOGIN|AUTHENTICATE)\b/im;

/**
 * Watches one connection's bytes for the cuts of the plan. `pass` returns true when it cut the
 * connection (having delivered the bytes before the cut point); the caller then forwards nothing.
 */
export function cutWatcher(cuts: Cut[], counters: CutCounters, connection: number, tracker: CommandTracker, act: CutActions) {
  const seen = counters.seen;
  const pending = new Map<Cut, number>();
  const replyTags = new Map<Cut, string>();
  let up = 0;
  let down = 0;
  const nth = (cut: Cut): boolean => {
    const count = (seen.get(cut) ?? 0) + 1;
    seen.set(cut, count);
    return count === (('nth' in cut.at && cut.at.nth) || 1);
  };
  // Where (offset into buf) a cut falls in this chunk, or undefined.
  const cutPoint = (cut: Cut, direction: Direction, buf: Buffer, text: string): { offset: number; what: string } | undefined => {
    const at = cut.at;
    if ('after' in at) {
      if (at.direction !== direction || (at.connection !== undefined && at.connection !== connection)) return undefined;
      const before = at.connection !== undefined ? (direction === 'up' ? up : down) : counters[direction];
      if (before + buf.length <= at.after) return undefined;
      return { offset: Math.max(0, at.after - before), what: `after ${at.after} bytes ${direction}` };
    }
    if ('beforeReplyTo' in at) {
      if (direction === 'up') {
        for (const line of text.split('\r\n')) if (at.beforeReplyTo.test(line) && nth(cut)) replyTags.set(cut, line.split(' ')[0]!);
        return undefined;
      }
      const tag = replyTags.get(cut);
      const found = tag === undefined ? -1 : new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)`).exec(text)?.index ?? -1;
      if (found < 0) return undefined;
      return { offset: found === 0 && text.startsWith(`${tag} `) ? 0 : found + 2, what: `before the answer to ${tag}` };
    }
    const wanted = at.inside === 'fetch-literal' ? 'down' : 'up';
    if (direction !== wanted) return undefined;
    const left = pending.get(cut);
    if (left !== undefined) return { offset: Math.min(buf.length, Math.max(1, Math.floor(left / 2))), what: `inside a ${at.inside}` };
    const m = (at.inside === 'fetch-literal' ? FETCH_LITERAL : at.inside === 'append-literal' ? APPEND_LITERAL : LOGIN).exec(text);
    if (!m || !nth(cut)) return undefined;
    if (at.inside === 'login') return { offset: m.index + Math.floor((text.length - m.index) / 2), what: 'inside the login' };
    const start = m.index + m[0].length;
    const size = Number(m[1]);
    if (start >= buf.length) {
      pending.set(cut, size);
      return undefined;
    }
    return { offset: start + Math.min(buf.length - start, Math.max(1, Math.floor(size / 2))), what: `inside a ${at.inside} of ${size} bytes` };
  };
  return {
    pass(direction: Direction, buf: Buffer): boolean {
      const text = buf.toString('latin1');
      tracker.see(direction, text);
      for (const cut of cuts) {
        if (counters.fired.has(cut)) continue;
        const point = cutPoint(cut, direction, buf, text);
        if (!point) continue;
        counters.fired.add(cut);
        act.deliver(direction, buf.subarray(0, point.offset));
        counters[direction] += point.offset;
        act.cut(cut.kind, point.what);
        return true;
      }
      counters[direction] += buf.length;
      if (direction === 'up') up += buf.length;
      else down += buf.length;
      return false;
    },
  };
}

const COMMANDS = /^([A-Za-z0-9.]+) ((?:UID )?(?:APPEND|FETCH|STORE|SEARCH|EXPUNGE|COPY|MOVE)|SELECT|EXAMINE|LOGIN|AUTHENTICATE|LIST|LSUB|STATUS|CREATE|SUBSCRIBE|NOOP|LOGOUT|CAPABILITY|ENABLE|ID|NAMESPACE|CLOSE|UNSELECT|EXPUNGE)\b/i;

/** The commands of one connection still waiting for their tagged answer, for telling what a fault hit. */
export class CommandTracker {
  private readonly open = new Map<string, string>();

  see(direction: Direction, text: string): void {
    for (const line of text.split('\r\n')) {
      const m = COMMANDS.exec(line);
      if (!m) continue;
      if (direction === 'up') this.open.set(m[1]!, m[2]!.toUpperCase());
    }
    if (direction === 'down') for (const tag of [...this.open.keys()]) if (new RegExp(`(^|\\r\\n)${tag.replace('.', '\\.')} (OK|NO|BAD)`).test(text)) this.open.delete(tag);
  }

  inFlight(): string[] {
    return [...this.open.values()];
  }
}

import net from 'node:net';
import { CommandSkipper, CommandSplitter } from './command-skipper.js';
import { CommandTracker, cutWatcher, randomCut, type Cut, type CutCounters, type RandomCuts } from './fault-cuts.js';

export type { Cut } from './fault-cuts.js';

export interface Injection {
  /** Which client command to answer in the server's place (matched on the command's first chunk). */
  match: RegExp;
  /** Answer the nth match (1-based), counted over all connections; every match without it (a server that always refuses). */
  nth?: number;
  /** The tagged response to send instead of forwarding the command. */
  reply: (tag: string) => string;
}

export interface FaultPlan {
  injections?: Injection[];
  /** Keep STARTTLS (default: removed, so the conversation can be read and altered). */
  keepStartTls?: boolean;
  /** Capabilities to leave out of what the server announces, e.g. `UIDPLUS` (a server without it). */
  hideCapabilities?: string[];
  /** Connect to the server from this address (127.0.0.2: Dovecot then sees a non-local client). */
  localAddress?: string;
  /** On the nth connection (1-based), after this many bytes from the server, send a BYE and hang up. */
  byeAfter?: { connection: number; bytes: number };
  /** Hang up (with a BYE) right after the server completed the nth command matching this. */
  byeAfterReply?: { match: RegExp; nth: number };
  /** Server lines to leave out of the answers (matched whole, CRLF excluded), e.g. /^\* OK \[UIDNEXT \d+\]/. */
  dropLines?: RegExp;
  /** Server lines to alter (whole lines, CRLF excluded), e.g. every RFC822.SIZE made one more: a server whose sizes are wrong. */
  rewriteLines?: (line: string) => string;
  /**
   * Go silent in the middle of a command: once the client sent a command matching `match` (the
   * nth such over all connections, or every one without `nth`) and `afterBytes` more bytes came
   * from the server, forward nothing either way for `seconds` (Infinity: for good), keeping both
   * sockets open, as a dead link or a hung server does.
   */
  stall?: { match: RegExp; nth?: number; afterBytes: number; seconds: number };
  /** Connections to cut (see fault-cuts.ts), each cut once. */
  cuts?: Cut[];
  /** Refuse new connections (nothing listens) for this long from the start. */
  refuseMs?: number;
  /** Cut some connections at random (the soak): see randomCut in fault-cuts.ts. */
  randomCuts?: RandomCuts;
}

export interface FaultProxy {
  port: number;
  /** What was done, so a test can check its fault really happened. */
  readonly log: string[];
  /** Everything the client sent, for checks that no secret crossed in the clear. */
  readonly upstreamBytes: () => Buffer;
  /** For each stall the client gave up on: milliseconds from the stall to its hang-up. */
  readonly stallWaits: number[];
  /** Bytes forwarded so far, all connections together, client to server (up) and back (down). */
  readonly bytes: { up: number; down: number };
  /** Connections accepted so far. */
  connections(): number;
  /** The commands sent on open connections whose tagged answer has not come yet (`APPEND`, `UID FETCH`, ...). */
  inFlight(): string[];
  /** Stop listening for `ms` (resolves when listening again): new connections are refused (ECONNREFUSED), open ones go on. */
  refuse(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real IMAP server that injects the faults providers produce:
 * throttling answers in the server's place and a BYE in the middle of a transfer. It removes
 * STARTTLS from the capabilities so it can read the (loopback, plaintext) conversation.
 */
export function startFaultProxy(target: { host: string; port: number }, plan: FaultPlan): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const log: string[] = [];
  const seen = new Map<Injection, number>();
  let connections = 0;
  let byeMatches = 0;
  let stallMatches = 0;
  const stallWaits: number[] = [];
  const sent: Buffer[] = [];
  const counters: CutCounters = { up: 0, down: 0, fired: new Set(), seen: new Map() };
  const trackers = new Set<CommandTracker>();
  const server = net.createServer((client) => {
    const n = ++connections;
    const upstream = net.connect({ port: target.port, host: target.host, localAddress: plan.localAddress });
    sockets.add(client).add(upstream);
    const hangUp = (): void => {
      client.destroy();
      upstream.destroy();
    };
    const tracker = new CommandTracker();
    trackers.add(tracker);
    client.on('close', () => trackers.delete(tracker));
    const chance = plan.randomCuts && randomCut(plan.randomCuts, n);
    const cuts = cutWatcher([...(plan.cuts ?? []), ...(chance ? [chance] : [])], counters, n, tracker, {
      deliver: (direction, prefix) => (direction === 'down' ? client : upstream).write(prefix),
      cut: (kind, what) => {
        log.push(`${kind} cut on connection ${n} ${what}`);
        if (kind === 'rst') client.resetAndDestroy();
        else client.end();
        upstream.destroy();
      },
    });
    let down = 0;
    let byeTag: string | undefined;
    let partialLine = '';
    // Stall: bytes still to forward before it (undefined: not armed), and since when it holds.
    let stallIn: number | undefined;
    let stalledAt: number | undefined;
    const held: Array<{ to: net.Socket; buf: Buffer }> = [];
    const startStall = (): void => {
      stalledAt = Date.now();
      log.push(`stall on connection ${n}`);
      const seconds = plan.stall!.seconds;
      if (Number.isFinite(seconds)) {
        setTimeout(() => {
          stalledAt = undefined;
          for (const h of held.splice(0)) h.to.write(h.buf);
        }, seconds * 1000);
      }
    };
    client.on('close', () => {
      if (stalledAt !== undefined) stallWaits.push(Date.now() - stalledAt);
    });
    upstream.on('data', (buf: Buffer) => {
      if (cuts.pass('down', buf)) return;
      if (stalledAt !== undefined) {
        held.push({ to: client, buf });
        return;
      }
      if (stallIn !== undefined && buf.length >= stallIn) {
        const [now, later] = [buf.subarray(0, stallIn), buf.subarray(stallIn)];
        stallIn = undefined;
        client.write(now);
        held.push({ to: client, buf: later });
        startStall();
        return;
      }
      if (stallIn !== undefined) stallIn -= buf.length;
      let raw = buf.toString('latin1');
      if (plan.dropLines || plan.rewriteLines) {
        // Whole lines only: a line split across reads is held back until its CRLF arrives.
        const lines = (partialLine + raw).split('\r\n');
        partialLine = lines.pop()!;
        const kept = plan.dropLines ? lines.filter((line) => !plan.dropLines!.test(line)) : lines;
        if (kept.length < lines.length) log.push(`dropped ${lines.length - kept.length} line(s) on connection ${n}`);
        const rewritten = plan.rewriteLines ? kept.map(plan.rewriteLines) : kept;
        if (rewritten.some((line, i) => line !== kept[i])) log.push(`rewrote line(s) on connection ${n}`);
        raw = rewritten.map((line) => `${line}\r\n`).join('');
      }
      let text = plan.keepStartTls ? raw : raw.replace(/ STARTTLS/g, '');
      for (const cap of plan.hideCapabilities ?? []) text = text.replace(new RegExp(` ${cap}(?=[ \\]\\r])`, 'g'), '');
      down += buf.length;
      if (plan.byeAfter?.connection === n && down >= plan.byeAfter.bytes) {
        log.push(`bye on connection ${n} after ${down} bytes`);
        client.write('* BYE Connection is closed. 13\r\n', hangUp);
        return;
      }
      // Replies given in the server's place go right after the answer they follow, also when that
      // answer and later ones came in one read.
      for (const part of afterTaggedLines(text)) {
        client.write(Buffer.from(part, 'latin1'));
        answered(part);
      }
      if (byeTag && new RegExp(`^${byeTag} (OK|NO|BAD)`, 'm').test(text)) {
        log.push(`bye after the reply to ${byeTag} on connection ${n}`);
        byeTag = undefined;
        client.write('* BYE Connection is closed. 13\r\n', hangUp);
      }
    });
    let skipping: CommandSkipper | undefined;
    const splitter = new CommandSplitter();
    client.on('data', (chunk: Buffer) => {
      if (cuts.pass('up', chunk)) return;
      for (const piece of splitter.split(chunk)) fromClient(piece.bytes, piece.starts);
    });
    const fromClient = (chunk: Buffer, startsCommand: boolean): void => {
      // The rest of a command answered in the server's place (its literals) never reaches the server.
      const buf = skipping ? skipping.feed(chunk) : chunk;
      if (!buf) return;
      skipping = undefined;
      if (buf.length === 0) return;
      sent.push(buf);
      if (stalledAt !== undefined) {
        held.push({ to: upstream, buf });
        return;
      }
      const text = buf.toString('latin1');
      const stall = plan.stall;
      if (stall?.match.test(text) && stallIn === undefined && (stall.nth === undefined || ++stallMatches === stall.nth)) stallIn = stall.afterBytes;
      if (plan.byeAfterReply?.match.test(text) && ++byeMatches === plan.byeAfterReply.nth) byeTag = text.split(' ')[0];
      for (const inj of plan.injections ?? []) {
        if (!inj.match.test(text)) continue;
        const count = (seen.get(inj) ?? 0) + 1;
        seen.set(inj, count);
        if (inj.nth !== undefined && count !== inj.nth) continue;
        const tag = text.split(' ')[0]!;
        const answer = inj.reply(tag);
        log.push(`answered ${text.split('\r\n')[0]} with ${answer.trim()}`);
        // After the answers to what the client sent before it, as a server answers in order.
        answerInTurn(answer);
        const skipper = new CommandSkipper();
        const rest = skipper.feed(buf);
        if (rest === undefined) skipping = skipper;
        else if (rest.length > 0) upstream.write(rest);
        return;
      }
      const forwarded = startsCommand ? /^([A-Za-z0-9.]+) /.exec(text)?.[1] : undefined;
      if (forwarded) awaited.push(forwarded);
      upstream.write(buf);
    };
    // Tags of commands forwarded to the server and not yet answered, in order; replies given in the
    // server's place that must follow their answers.
    const awaited: string[] = [];
    let queued: Array<{ after: string; reply: string }> = [];
    // A BYE ends the session, as a server's does.
    const reply = (text: string): void => void client.write(text, text.startsWith('* BYE') ? hangUp : undefined);
    const answerInTurn = (text: string): void => {
      const after = awaited[awaited.length - 1];
      if (after === undefined) reply(text);
      else queued.push({ after, reply: text });
    };
    /** The server's tagged answers in what it sent: those commands are no longer awaited, and replies queued behind them go. */
    let downTail = '';
    const answered = (text: string): void => {
      // A tagged answer may come split over two reads.
      const lines = downTail + text;
      downTail = lines.slice(lines.lastIndexOf('\r\n') + 2).slice(-256);
      for (const m of lines.matchAll(/(?:^|\r\n)([A-Za-z0-9.]+) (?:OK|NO|BAD)\b/g)) {
        const at = awaited.indexOf(m[1]!);
        if (at >= 0) awaited.splice(0, at + 1);
      }
      const ready = queued.filter((q) => !awaited.includes(q.after));
      queued = queued.filter((q) => awaited.includes(q.after));
      for (const q of ready) reply(q.reply);
    };
    for (const s of [client, upstream]) {
      s.on('error', hangUp);
      s.on('close', () => {
        sockets.delete(s);
        hangUp();
      });
    }
  });
  let port = 0;
  const refuse = async (ms: number): Promise<void> => {
    log.push(`refusing connections for ${ms} ms`);
    // Stops listening at once; close's callback would wait for the open connections to end.
    server.close();
    await new Promise<void>((r) => setTimeout(r, ms));
    server.listen(port, '127.0.0.1');
  };
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      port = (server.address() as net.AddressInfo).port;
      const proxy: FaultProxy = {
        port,
        log,
        upstreamBytes: () => Buffer.concat(sent),
        stallWaits,
        bytes: counters,
        inFlight: () => [...trackers].flatMap((t) => t.inFlight()),
        connections: () => connections,
        refuse,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
        },
      };
      resolve(proxy);
      if (plan.refuseMs) void refuse(plan.refuseMs);
    }),
  );
}

/** `text` cut right after each tagged answer line (`A1 OK ...\r\n`), in order. */
function afterTaggedLines(text: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (const m of text.matchAll(/(?<=^|\r\n)[A-Za-z0-9.]+ (?:OK|NO|BAD)\b[^\r\n]*\r\n/g)) {
    const end = m.index + m[0].length;
    parts.push(text.slice(from, end));
    from = end;
  }
  if (from < text.length || parts.length === 0) parts.push(text.slice(from));
  return parts;
}

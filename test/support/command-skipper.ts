/**
 * Follows the rest of one client command, literals included (`{N}` or LITERAL+ `{N+}`), so that a
 * proxy answering a command in the server's place (an APPEND with its messages) keeps all of it
 * from the server, not only its first chunk. `feed` answers the bytes after the command's end, or
 * undefined while the command goes on.
 */
export class CommandSkipper {
  private readonly splitter = new CommandSplitter();

  feed(buf: Buffer): Buffer | undefined {
    const pieces = this.splitter.split(buf);
    // More than one piece: the first ended the command. One: it did if nothing of it is left.
    if (pieces.length > 1) return buf.subarray(pieces[0]!.bytes.length);
    return this.splitter.atCommandStart ? buf.subarray(buf.length) : undefined;
  }
}

/**
 * Cuts what a client sends into its commands, literals included, so that commands it pipelined
 * into one chunk (a FETCH written behind an EXAMINE) are each seen, matched and answered on their
 * own. Nothing is held back: the pieces of a chunk are the chunk, cut where a command ends; each
 * says whether a command starts with it (not the rest of one, a literal's bytes).
 */
export class CommandSplitter {
  private literalLeft = 0;
  private line = '';
  /** Inside a command: also between a literal's last byte and the rest of its command. */
  private within = false;

  /** Whether what came so far ended with a whole command. */
  get atCommandStart(): boolean {
    return !this.within;
  }

  split(buf: Buffer): Array<{ bytes: Buffer; starts: boolean }> {
    const pieces: Array<{ bytes: Buffer; starts: boolean }> = [];
    let starts = this.atCommandStart;
    let start = 0;
    let i = 0;
    while (i < buf.length) {
      this.within = true;
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, buf.length - i);
        this.literalLeft -= n;
        i += n;
        continue;
      }
      this.line += String.fromCharCode(buf[i++]!);
      if (!this.line.endsWith('\r\n')) continue;
      const literal = /\{(\d+)\+?\}\r\n$/.exec(this.line);
      this.line = '';
      if (literal) this.literalLeft = Number(literal[1]);
      else {
        this.within = false;
        pieces.push({ bytes: buf.subarray(start, i), starts });
        start = i;
        starts = true;
      }
    }
    if (start < buf.length) pieces.push({ bytes: buf.subarray(start), starts });
    return pieces;
  }
}

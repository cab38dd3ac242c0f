/**
 * Follows the rest of one client command, literals included (`{N}` or LITERAL+ `{N+}`), so that a
 * proxy answering a command in the server's place (an APPEND with its messages) keeps all of it
 * from the server, not only its first chunk. `feed` answers the bytes after the command's end, or
 * undefined while the command goes on.
 */
export class CommandSkipper {
  private literalLeft = 0;
  private line = '';

  feed(buf: Buffer): Buffer | undefined {
    let i = 0;
    while (i < buf.length) {
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, buf.length - i);
        this.literalLeft -= n;
        i += n;
        continue;
      }
      const c = buf[i++]!;
      this.line += String.fromCharCode(c);
      if (!this.line.endsWith('\r\n')) continue;
      const literal = /\{(\d+)\+?\}\r\n$/.exec(this.line);
      this.line = '';
      if (!literal) return buf.subarray(i);
      this.literalLeft = Number(literal[1]);
    }
    return undefined;
  }
}

// An mboxrd reader as any mail reader would be (jwz: a `From ` at the start of a line starts a
// message): what the tests use to prove that an mbox written by mailferry parses, without its index.

const LF = 0x0a;
const FROM_ = Buffer.from('From ');

/** The messages of an mbox file: each one's From_ line and its bytes up to the closing blank line. */
export function splitMbox(file: Buffer): Array<{ fromLine: string; content: Buffer }> {
  const starts: number[] = [];
  for (let i = 0; i < file.length; ) {
    if (file.length - i >= FROM_.length && file.compare(FROM_, 0, FROM_.length, i, i + FROM_.length) === 0) starts.push(i);
    const next = file.indexOf(LF, i);
    i = next < 0 ? file.length : next + 1;
  }
  if (file.length > 0 && starts[0] !== 0) throw new Error('mbox does not start with a From_ line');
  return starts.map((start, k) => {
    const end = starts[k + 1] ?? file.length;
    const lineEnd = file.indexOf(LF, start);
    const message = file.subarray(lineEnd + 1, end);
    // The separator blank line belongs to the file, not the message.
    return { fromLine: file.subarray(start, lineEnd).toString('latin1'), content: message.subarray(0, message.length - (message[message.length - 1] === LF ? 1 : 0)) };
  });
}

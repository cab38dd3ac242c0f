/**
 * A reader that stops early (`mailferry profiles --json | head -3`) closes its end of the pipe, and
 * the next write fails with EPIPE, emitted as an 'error' event that would end the process with a
 * stack trace. What was still to be printed is no longer wanted, but the work is: the command goes
 * on and ends with the status it would have had, and later writes to that stream are dropped.
 */
export function tolerateClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    throw err;
  });
}

import { headerEnd } from '../mbox/mboxrd.js';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Why the last message of an mbox other programs wrote looks cut off (a copy or a download that
 * stopped early), or undefined. Only what can be told from the bytes: the file ends inside a line
 * (every writer ends each message with a line ending), or before the body its `Content-Length:`
 * announces. A cut exactly at a line end cannot be told from a whole message: in the body of a
 * message without Content-Length, nor in the header section, since a message may have no body
 * (real archives end with header-only messages, e.g. RFC 2047's samples).
 */
export function cutShortReason(content: Buffer): string | undefined {
  if (content.length > 0 && content[content.length - 1] !== LF) return 'the file ends inside a line of its last message';
  const end = headerEnd(content);
  const announced = contentLength(content.subarray(0, end));
  const bodyStart = end + (content[end] === CR ? 2 : 1);
  if (announced !== undefined && content.length - bodyStart < announced) {
    return `its last message announces a ${announced}-byte body (Content-Length), the file holds ${content.length - bodyStart}`;
  }
  return undefined;
}

function contentLength(header: Buffer): number | undefined {
  const m = /^content-length:[ \t]*(\d+)[ \t]*\r?$/im.exec(header.toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/**
 * One leaf of a message's MIME tree, numbered as IMAP numbers body parts (RFC 3501 section
 * 6.4.5): `1` for a message that is not multipart, `1`, `2`, `2.1`... inside multiparts. The same
 * shape comes from an IMAP server's BODYSTRUCTURE and from parsing the raw bytes of a local copy.
 */
export interface MimeLeaf {
  part: string;
  /** Lower case, `text/plain`. */
  type: string;
  charset?: string;
  /** Content-Transfer-Encoding, lower case; `7bit` when absent. */
  encoding: string;
  /** The file name (Content-Disposition filename, else Content-Type name), decoded. */
  name?: string;
  /** `attachment` or `inline`, when the part says. */
  disposition?: string;
  /** Size of the encoded body, in bytes. */
  size: number;
}

/**
 * A scriptable, in-memory IMAP server that behaves like Gmail (X-GM-EXT-1), for tests.
 * The protocol front is in gmail/gmail-server.ts, the mailbox model in gmail/gmail-model.ts and
 * the command reader / tokenizer in gmail/imap-parser.ts.
 */
export { GmailServer, startGmailServer } from './gmail/gmail-server.js';
export type { GmailServerOptions, GmailStats, Injection, MessageInfo, SeedMessage } from './gmail/gmail-server.js';
export type { Location } from './gmail/gmail-model.js';

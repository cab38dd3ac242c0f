/** What `mailferry config init` writes: a file `mailferry config check` accepts, every field explained. */
export const JOB_FILE_EXAMPLE = `# mailferry job file: \`mailferry run\` runs every job below in order, \`mailferry run NAME\` one.
# \`mailferry config check\` checks it and prints each job's command line. Format: docs/config.md.

accounts:
  # An account: its URL, and at most one source of its password or token.
  old:
    url: imaps://alice%40old.example@imap.old.example
    # What the command prints is the password (pass, secret-tool, gpg...).
    password-command: pass show mail/old
    # Others: password-file (mode 0600), password-env (a variable's name),
    # oauth2: PROFILE[:LOGIN] (after mailferry login), oauth2-token-command,
    # or password: ... with allow-clear-password: true, in a 0600 file only.
    # Also: profile, ca, authzid (as --from-profile, --from-ca, --from-authzid).
  new:
    url: imaps://alice@imap.new.example
    password-file: /home/alice/.config/mailferry/new.password

jobs:
  # A job: a command (migrate, backup or restore) and its options, named as on its command
  # line without the dashes; from/to name accounts (backup's to and restore's from are paths).
  move:
    command: migrate
    from: old
    to: new
    exclude: [Spam]
  nightly:
    command: backup
    from: new
    to: /srv/mail-backup/alice
    archive: /srv/mail-archives/alice-{date}.tar.gz
    keep: 14
`;

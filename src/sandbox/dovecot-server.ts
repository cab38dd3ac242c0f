// A private Dovecot 2.3 instance on loopback for tests, `mailferry sandbox` and benchmarks.
// Everything (config, passwd-file, certificates, mail, sockets, logs) lives in one directory,
// so an instance never touches the system Dovecot and `stop()` leaves nothing behind.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface DovecotUser {
  name: string;
  password: string;
  /** userdb extra fields, e.g. 'userdb_quota_rule=*:storage=200K' */
  extra?: string;
}

export interface DovecotOptions {
  users: DovecotUser[];
  /** default '127.0.0.1' */
  listen?: string;
  /**
   * default: a fresh mkdtemp under os.tmpdir(), mode 0700. A given dir must be absent or empty;
   * as root its parents must be searchable by the "dovecot" user, which runs the auth process.
   */
  dir?: string;
  /** 'fs' (default): separator '/'; 'maildir++': Dovecot's default Maildir++ layout, separator '.' */
  layout?: 'fs' | 'maildir++';
  /** default true: Sent/Drafts/Trash/Junk/Archive exist (auto=subscribe) with their SPECIAL-USE flags */
  specialUse?: boolean;
  /** Other names for those folders, as localized servers have them (e.g. Sent: 'Gesendete Elemente'). */
  specialUseNames?: Partial<Record<SpecialFolder, string>>;
  /** Personal namespace prefix, e.g. 'INBOX.' as Courier-style servers have (use with layout 'maildir++'). */
  prefix?: string;
  /** default: false for a generated dir, true for a caller's `dir` (never delete what we did not create) */
  keepDir?: boolean;
  /**
   * Also accept OAuth2 bearer tokens (passdb oauth2, Dovecot 2.3): each token is POSTed as
   * `token=...` to `introspectionUrl` (RFC 7662), which answers {"active": true, "username": USER}
   * for a valid one. `mechanisms` default: both. `usernameFormat`: how the login user and that
   * username are both normalised before they must be equal (Dovecot's username_format, default
   * `%Lu`; `%Ld` compares their domains, as for an app-only token that reaches a whole domain).
   */
  oauth2?: { introspectionUrl: string; mechanisms?: Array<'xoauth2' | 'oauthbearer'>; usernameFormat?: string };
  /** Master users, who may log in as any user: as 'user*master', or with SASL PLAIN authzid = user. */
  masterUsers?: Array<{ name: string; password: string }>;
  /** default false: load imap_zlib, so the server offers COMPRESS=DEFLATE (RFC 4978) */
  compress?: boolean;
}

export interface DovecotServer {
  host: string;
  /** plaintext + STARTTLS listener */
  port: number;
  /** implicit TLS listener */
  tlsPort: number;
  dir: string;
  /** PEM of the test CA that signed the server cert (DNS:localhost, IP:127.0.0.1, IP:127.0.0.2) */
  caFile: string;
  /** a leaf for 'wrong.example' signed by the same CA, for name-mismatch tests */
  wrongCertFile: string;
  wrongKeyFile: string;
  configFile: string;
  /** the user's home; the Maildir is `<home>/Maildir` */
  mailHome(user: string): string;
  /** runs `doveadm -c <conf> ...args`; resolves to stdout, rejects with stderr */
  doveadm(args: string[]): Promise<string>;
  /** appends to the passwd-file (no reload needed); resolves once the user can log in */
  addUser(u: DovecotUser): Promise<void>;
  /**
   * Many users at once (the bulk benchmark's 20,000): one write to the passwd-file, each INBOX
   * made as an empty Maildir on disk instead of through doveadm, no special-use folders.
   */
  addUsers(users: DovecotUser[]): Promise<void>;
  /** SIGTERM to the master from run/master.pid, waits until it is gone, then removes dir unless keepDir */
  stop(): Promise<void>;
}

/** Who the mail processes run as, and whether the master runs as root. */
interface Identity {
  root: boolean;
  user: string;
  uid: number;
  gid: number;
}

const START_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

export async function startDovecot(opts: DovecotOptions): Promise<DovecotServer> {
  const host = opts.listen ?? '127.0.0.1';
  const identity = await resolveIdentity();
  const dir = await prepareDir(opts.dir);
  const keepDir = opts.keepDir ?? opts.dir !== undefined;
  try {
    for (const sub of ['tls', 'log', 'mail']) await fs.mkdir(path.join(dir, sub), { mode: 0o700 });
    const certs = await makeCertificates(path.join(dir, 'tls'));
    const specialFolders = opts.specialUse === false ? [] : SPECIAL_USE.map(([name, flag]) => [opts.specialUseNames?.[name] ?? name, flag] as const);
    const server = new SandboxDovecot(host, dir, keepDir, identity, certs, opts.layout ?? 'fs', specialFolders, opts.prefix ?? '', { oauth2: opts.oauth2, masterUsers: opts.masterUsers }, opts.compress ?? false);
    await fs.writeFile(server.usersFile, '', { mode: 0o600 });
    await server.writeAuthFiles();
    for (const u of opts.users) await server.addUser(u);
    await server.launch();
    return server;
  } catch (err) {
    if (!keepDir) await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface Certificates {
  caFile: string;
  certFile: string;
  keyFile: string;
  wrongCertFile: string;
  wrongKeyFile: string;
}

class SandboxDovecot implements DovecotServer {
  port = 0;
  tlsPort = 0;
  readonly caFile: string;
  readonly wrongCertFile: string;
  readonly wrongKeyFile: string;
  readonly configFile: string;
  readonly usersFile: string;
  private readonly userNames = new Set<string>();
  /** Users from addUsers, whose INBOX exists on disk already. */
  private readonly madeOnDisk = new Set<string>();
  private launched = false;
  private stopping: Promise<void> | undefined;
  // Best effort if the process exits without stop(): a leaked master would hold its ports forever.
  private readonly exitHook = () => {
    const pid = this.masterPid();
    if (pid !== undefined && this.isOurMaster(pid)) process.kill(pid, 'SIGTERM');
  };

  constructor(
    readonly host: string,
    readonly dir: string,
    private readonly keepDir: boolean,
    private readonly identity: Identity,
    private readonly certs: Certificates,
    private readonly layout: 'fs' | 'maildir++',
    private readonly specialFolders: ReadonlyArray<readonly [string, string]>,
    private readonly prefix: string,
    private readonly extraAuth: Pick<DovecotOptions, 'oauth2' | 'masterUsers'>,
    private readonly compress: boolean,
  ) {
    this.caFile = certs.caFile;
    this.wrongCertFile = certs.wrongCertFile;
    this.wrongKeyFile = certs.wrongKeyFile;
    this.configFile = path.join(dir, 'dovecot.conf');
    this.usersFile = path.join(dir, 'users');
  }

  private get mastersFile(): string {
    return path.join(this.dir, 'masters');
  }

  private get oauth2File(): string {
    return path.join(this.dir, 'dovecot-oauth2.conf.ext');
  }

  /** The master-user passwd-file and the oauth2 passdb's settings, when asked for. */
  async writeAuthFiles(): Promise<void> {
    const { oauth2, masterUsers } = this.extraAuth;
    if (masterUsers) {
      for (const m of masterUsers) if (!/^[A-Za-z0-9_.+@-]+$/.test(m.name) || /[\0\r\n]/.test(m.password)) throw new Error(`invalid master user ${JSON.stringify(m.name)}`);
      const lines = masterUsers.map((m) => `${m.name}:{SHA512}${createHash('sha512').update(m.password, 'utf8').digest('base64')}\n`);
      await fs.writeFile(this.mastersFile, lines.join(''), { mode: 0o600 });
    }
    if (oauth2) {
      if (!/^https?:\/\/[^\s]+$/.test(oauth2.introspectionUrl)) throw new Error(`invalid introspection URL ${JSON.stringify(oauth2.introspectionUrl)}`);
      if (oauth2.usernameFormat !== undefined && !/^[%A-Za-z{}]+$/.test(oauth2.usernameFormat)) throw new Error(`invalid username format ${JSON.stringify(oauth2.usernameFormat)}`);
      await fs.writeFile(
        this.oauth2File,
        [
          'introspection_mode = post',
          `introspection_url = ${oauth2.introspectionUrl}`,
          // Always ask the endpoint: it decides whether a token is (still) active.
          'force_introspection = yes',
          'username_attribute = username',
          ...(oauth2.usernameFormat !== undefined ? [`username_format = ${oauth2.usernameFormat}`] : []),
          'active_attribute = active',
          'active_value = true',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
    }
  }

  mailHome(user: string): string {
    return path.join(this.dir, 'mail', user);
  }

  async doveadm(args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileP('doveadm', ['-c', this.configFile, ...args], {
        maxBuffer: 1 << 30,
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`doveadm ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`);
    }
  }

  async addUser(u: DovecotUser): Promise<void> {
    checkUser(u);
    if (this.userNames.has(u.name)) throw new Error(`user ${u.name} already exists`);
    const home = this.mailHome(u.name);
    await fs.mkdir(home, { mode: 0o700 });
    if (this.identity.root) await fs.chown(home, this.identity.uid, this.identity.gid);
    await fs.appendFile(this.usersFile, this.passwdLine(u, home));
    this.userNames.add(u.name);
    if (this.launched) await this.initMailStore(u.name);
  }

  async addUsers(users: DovecotUser[]): Promise<void> {
    const lines: string[] = [];
    for (const u of users) {
      checkUser(u);
      if (this.userNames.has(u.name)) throw new Error(`user ${u.name} already exists`);
      const home = this.mailHome(u.name);
      for (const sub of ['', 'Maildir', 'Maildir/cur', 'Maildir/new', 'Maildir/tmp']) {
        await fs.mkdir(path.join(home, sub), { mode: 0o700 });
        if (this.identity.root) await fs.chown(path.join(home, sub), this.identity.uid, this.identity.gid);
      }
      lines.push(this.passwdLine(u, home));
      this.userNames.add(u.name);
      this.madeOnDisk.add(u.name);
    }
    await fs.appendFile(this.usersFile, lines.join(''));
  }

  private passwdLine(u: DovecotUser, home: string): string {
    // An unsalted SHA512 is enough for a throwaway server and, unlike {PLAIN}, keeps ':' in a
    // password from breaking the file, without spawning `doveadm pw`.
    const hash = createHash('sha512').update(u.password, 'utf8').digest('base64');
    return `${u.name}:{SHA512}${hash}:${this.identity.uid}:${this.identity.gid}::${home}::${u.extra ?? ''}\n`;
  }

  /**
   * Creates the user's INBOX and special-use mailboxes through doveadm. Left to the first IMAP
   * sessions, parallel logins of a fresh user race to auto-create them and Dovecot 2.3.19
   * panics: "fcntl(dovecot.list.index.log, write-lock, F_SETLKW) locking failed: Resource
   * deadlock avoided". Retried because the auth process re-reads the passwd-file at most once
   * a second, so a user added a moment ago may not exist yet.
   */
  private async initMailStore(name: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        if (this.specialFolders.length > 0) await this.doveadm(['mailbox', 'create', '-u', name, ...this.specialFolders.map(([box]) => this.prefix + box)]);
        await this.doveadm(['mailbox', 'status', '-u', name, 'guid', 'INBOX']);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
  }

  /** Starts the master, retrying with fresh ports when another process grabbed one first. */
  async launch(): Promise<void> {
    const { root, uid, gid } = this.identity;
    // As root the auth process (user dovecot) reads the passwd-file and the mail processes
    // (the dovecot uid) write the homes, so the whole tree belongs to that user.
    if (root) await chownTree(this.dir, uid, gid);
    for (let attempt = 1; ; attempt++) {
      [this.port, this.tlsPort] = await freePortPair(this.host);
      await fs.writeFile(this.configFile, this.renderConfig(), { mode: 0o600 });
      if (root) await fs.chown(this.configFile, uid, gid);
      const failure = await runDovecot(this.configFile, path.join(this.dir, 'log', 'startup.log'));
      if (failure === undefined) break;
      if (!failure.includes('Address already in use') || attempt >= START_ATTEMPTS) {
        throw new Error(`dovecot failed to start: ${failure.trim()}`);
      }
    }
    process.on('exit', this.exitHook);
    this.launched = true;
    try {
      await this.waitReady();
      for (const name of this.userNames) if (!this.madeOnDisk.has(name)) await this.initMailStore(name);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    process.off('exit', this.exitHook);
    const pid = this.masterPid();
    if (pid !== undefined && this.isOurMaster(pid)) {
      process.kill(pid, 'SIGTERM');
      // The master releases its ports before it exits and lingers about 1-2.5 s waiting for
      // its log process, so "port closed" is not "stopped": wait for the PID itself.
      if (!(await waitGone(pid, STOP_TIMEOUT_MS))) {
        process.kill(pid, 'SIGKILL');
        await waitGone(pid, STOP_TIMEOUT_MS);
      }
    }
    if (!this.keepDir) await fs.rm(this.dir, { recursive: true, force: true, maxRetries: 5 });
  }

  private masterPid(): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(path.join(this.dir, 'run', 'master.pid'), 'utf8'), 10);
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Guards against a stale pid file whose PID now belongs to some other process. */
  private isOurMaster(pid: number): boolean {
    if (!isAlive(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(this.configFile);
    } catch {
      return process.platform !== 'linux'; // no /proc: trust the pid file
    }
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const ca = await fs.readFile(this.caFile);
    while (this.masterPid() === undefined) {
      if (Date.now() > deadline) throw new Error(`dovecot wrote no master.pid in ${this.dir}/run`);
      await sleep(20);
    }
    await waitForGreeting(() => net.connect({ host: this.host, port: this.port }), deadline);
    await waitForGreeting(
      () => tls.connect({ host: this.host, port: this.tlsPort, ca, servername: 'localhost' }),
      deadline,
    );
  }

  private renderConfig(): string {
    const { dir: d, layout } = this;
    const { root, user, uid, gid } = this.identity;
    const separator = layout === 'fs' ? '/' : '.';
    const mailLocation = layout === 'fs' ? 'maildir:~/Maildir:LAYOUT=fs' : 'maildir:~/Maildir';
    const specialMailboxes = this.specialFolders.map(([name, flag]) => block(`mailbox "${name}"`, [`special_use = ${flag}`, 'auto = subscribe']));
    return [
      '# Generated by mailferry src/sandbox/dovecot-server.ts. Dovecot rejects one-line blocks.',
      `base_dir = ${d}/run`,
      `state_dir = ${d}/run/state`,
      `log_path = ${d}/log/dovecot.log`,
      `info_log_path = ${d}/log/dovecot.log`,
      'protocols = imap',
      `listen = ${this.host}`,
      // Dovecot refuses mail processes below first_valid_uid (default 500); ours may be a system user.
      `first_valid_uid = ${uid}`,
      `first_valid_gid = ${gid}`,
      'mail_max_userip_connections = 100',
      // Seeding speed (about 3x on APPEND): the sandbox never has to survive a kernel crash, and
      // only Dovecot writes its Maildirs (tests change them through doveadm or IMAP).
      'mail_fsync = never',
      'maildir_very_dirty_syncs = yes',
      'ssl = yes',
      `ssl_cert = <${this.certs.certFile}`,
      `ssl_key = <${this.certs.keyFile}`,
      'ssl_min_protocol = TLSv1.2',
      // Loopback with equal source and destination IP still counts as secure (correctness.md 3.3).
      'disable_plaintext_auth = yes',
      `auth_mechanisms = plain login${this.extraAuth.oauth2 ? ` ${(this.extraAuth.oauth2.mechanisms ?? ['xoauth2', 'oauthbearer']).join(' ')}` : ''}`,
      ...(this.extraAuth.masterUsers
        ? [
            'auth_master_user_separator = *',
            // result_success = continue: the user logged in as must exist in the passwd-file too.
            block('passdb', ['driver = passwd-file', `args = ${this.mastersFile}`, 'master = yes', 'result_success = continue']),
          ]
        : []),
      ...(this.extraAuth.oauth2 ? [block('passdb', ['driver = oauth2', 'mechanisms = xoauth2 oauthbearer', `args = ${this.oauth2File}`])] : []),
      block('passdb', ['driver = passwd-file', `args = ${this.usersFile}`]),
      block('userdb', ['driver = passwd-file', `args = ${this.usersFile}`]),
      `mail_location = ${mailLocation}`,
      block('namespace inbox', ['inbox = yes', `separator = ${separator}`, ...(this.prefix ? [`prefix = ${this.prefix}`] : []), ...specialMailboxes]),
      'mail_plugins = $mail_plugins quota',
      block('protocol imap', [`mail_plugins = $mail_plugins imap_quota${this.compress ? ' imap_zlib' : ''}`]),
      block('plugin', [
        'quota = count:User quota',
        'quota_vsizes = yes',
        'quota_rule = *:storage=10G',
        'quota_max_mail_size = 100M',
      ]),
      block('service imap-login', [
        ...(root ? [] : ['chroot =']),
        block('inet_listener imap', [`address = ${this.host}`, `port = ${this.port}`]),
        block('inet_listener imaps', [`address = ${this.host}`, `port = ${this.tlsPort}`, 'ssl = yes']),
      ]),
      ...(root ? [] : nonRootServices(user)),
      '',
    ].join('\n');
  }
}

/** The passwd-file is ':'-separated and line-based; a name also becomes a directory. */
function checkUser(u: DovecotUser): void {
  if (!/^[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*$/.test(u.name)) throw new Error(`invalid user name ${JSON.stringify(u.name)}`);
  if (u.extra !== undefined && /[\r\n]/.test(u.extra)) throw new Error('userdb extra fields must be one line');
  // Observed: Dovecot answers AUTHENTICATIONFAILED for such a password even when it is stored.
  if (/[\0\r\n]/.test(u.password)) throw new Error('password must not contain NUL, CR or LF');
}

type SpecialFolder = (typeof SPECIAL_USE)[number][0];

const SPECIAL_USE = [
  ['Sent', '\\Sent'],
  ['Drafts', '\\Drafts'],
  ['Trash', '\\Trash'],
  ['Junk', '\\Junk'],
  ['Archive', '\\Archive'],
] as const;

/**
 * As an ordinary user every service runs as that user: no chroot, and the unix listeners that
 * default to group "dovecot" get no group, else the master fails on chown (correctness.md 3.0).
 */
function nonRootServices(user: string): string[] {
  const privateListener = (service: string, listener: string) =>
    block(`service ${service}`, [block(`unix_listener ${listener}`, ['group =', 'mode = 0600'])]);
  return [
    `default_login_user = ${user}`,
    `default_internal_user = ${user}`,
    block('service anvil', ['chroot =']),
    privateListener('stats', 'stats-writer'),
    privateListener('imap-hibernate', 'imap-hibernate'),
    privateListener('dict', 'dict'),
    privateListener('dict-async', 'dict-async'),
    block('service auth', [block('unix_listener auth-userdb', ['mode = 0600'])]),
  ];
}

function block(header: string, lines: string[]): string {
  const body = lines.flatMap((l) => l.split('\n')).map((l) => `  ${l}`);
  return [`${header} {`, ...body, '}'].join('\n');
}

async function resolveIdentity(): Promise<Identity> {
  if (process.getuid?.() !== 0) {
    const me = os.userInfo();
    return { root: false, user: me.username, uid: me.uid, gid: me.gid };
  }
  // Dovecot will not run mail processes as uid 0 by default, and its auth process runs as the
  // "dovecot" user, so as root the sandbox is owned by that system user (from dovecot-core).
  try {
    const { stdout } = await execFileP('getent', ['passwd', 'dovecot']);
    const [, , uid, gid] = stdout.trim().split(':');
    return { root: true, user: 'dovecot', uid: Number(uid), gid: Number(gid) };
  } catch {
    throw new Error('running as root needs the "dovecot" system user (package dovecot-core)');
  }
}

export async function prepareDir(dir: string | undefined): Promise<string> {
  // Paths are pasted into dovecot.conf unquoted, where '$', quotes and spaces have meaning.
  const target = path.resolve(dir ?? os.tmpdir());
  if (!/^[A-Za-z0-9_./+@-]+$/.test(target)) throw new Error(`unsupported characters in sandbox dir ${target}`);
  if (dir === undefined) return fs.mkdtemp(path.join(target, 'mailferry-dovecot-')); // mode 0700
  await fs.mkdir(target, { recursive: true, mode: 0o700 });
  if ((await fs.readdir(target)).length > 0) throw new Error(`sandbox dir ${target} is not empty`);
  await fs.chmod(target, 0o700);
  return target;
}

/** A test CA plus leaves for localhost (the server) and wrong.example, all P-256 for speed. */
export async function makeCertificates(tlsDir: string): Promise<Certificates> {
  const f = (name: string) => path.join(tlsDir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await execFileP('openssl', [
    'req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '3650',
    '-subj', '/CN=mailferry sandbox CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const leaf = async (name: string, serial: number, san: string) => {
    await fs.writeFile(
      f(`${name}.ext`),
      `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    await execFileP('openssl', ['req', '-new', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`]);
    await execFileP('openssl', [
      'x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
      '-set_serial', String(serial), '-days', '825', '-sha256',
      '-out', f(`${name}.pem`), '-extfile', f(`${name}.ext`),
    ]);
  };
  await Promise.all([
    leaf('localhost', 2, 'DNS:localhost,IP:127.0.0.1,IP:127.0.0.2'),
    leaf('wrong.example', 3, 'DNS:wrong.example'),
  ]);
  return {
    caFile: f('ca.pem'),
    certFile: f('localhost.pem'),
    keyFile: f('localhost.key'),
    wrongCertFile: f('wrong.example.pem'),
    wrongKeyFile: f('wrong.example.key'),
  };
}

/**
 * Runs `dovecot -c conf`, which checks the config, binds its listeners, then daemonizes.
 * Its stderr goes to a file: the daemon inherits the descriptor, so a pipe would never close.
 * Returns undefined on success, else the startup output.
 */
async function runDovecot(configFile: string, startupLog: string): Promise<string | undefined> {
  const fd = openSync(startupLog, 'w');
  let code: number | null;
  try {
    code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('dovecot', ['-c', configFile], { stdio: ['ignore', fd, fd] });
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
  } finally {
    closeSync(fd);
  }
  if (code === 0) return undefined;
  return readFileSync(startupLog, 'utf8') || `exit code ${code}`;
}

/** Two distinct ports that were free a moment ago (bound together so they cannot coincide). */
export async function freePortPair(host: string): Promise<[number, number]> {
  const listen = () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => resolve(s));
  });
  const servers = await Promise.all([listen(), listen()]);
  const [a, b] = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return [a!, b!];
}

/** Connects until the server sends its `* OK` greeting line. */
export async function waitForGreeting(connect: () => net.Socket, deadline: number): Promise<void> {
  for (;;) {
    const greeting = await new Promise<string | Error>((resolve) => {
      const socket = connect();
      let data = '';
      const done = (v: string | Error) => { socket.destroy(); resolve(v); };
      socket.setTimeout(Math.max(1, deadline - Date.now()), () => done(new Error('timed out')));
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('latin1');
        if (data.includes('\r\n')) done(data);
      });
      socket.once('error', done);
      socket.once('end', () => done(new Error(`closed after ${JSON.stringify(data)}`)));
    });
    if (typeof greeting === 'string') {
      if (greeting.startsWith('* OK')) return;
      throw new Error(`unexpected greeting ${JSON.stringify(greeting)}`);
    }
    if (Date.now() > deadline) throw new Error(`dovecot not ready: ${greeting.message}`);
    await sleep(20);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A daemon whose parent never reaps it (a container's PID 1) stays a zombie: that is gone too.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

export async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await fs.chown(dir, uid, gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, uid, gid);
    // A link itself, never what it points to (which may be outside the tree, or nowhere).
    else await fs.lchown(p, uid, gid);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

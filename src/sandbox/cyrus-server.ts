// A private Cyrus IMAP 3 instance on loopback for tests: the second real server next to Dovecot.
// Debian's cyrus-imapd conflicts with dovecot-imapd, so it is not installed but unpacked by
// scripts/install-cyrus.sh; this runs that copy's `master` with a generated imapd.conf and
// cyrus.conf, every path under one directory, users in a private sasldb.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../package-root.js';
import { chownTree, freePortPair, isAlive, makeCertificates, waitForGreeting, waitGone } from './dovecot-server.js';
import { connectPlain } from './seed.js';

const execFileP = promisify(execFile);

export interface CyrusOptions {
  users: Array<{ name: string; password: string }>;
  /**
   * 'default': personal folders under `INBOX.` with separator '.'; 'alt': `altnamespace` with
   * `unixhierarchysep`, folders beside INBOX with separator '/'.
   */
  namespace?: 'default' | 'alt';
  /** Cyrus' own default (true) turns 8-bit bytes in headers into 'X' on APPEND; false keeps bytes exact. */
  munge8bit?: boolean;
}

export interface CyrusServer {
  host: string;
  /** plaintext + STARTTLS listener */
  port: number;
  dir: string;
  /** PEM of the CA that signed the server certificate (DNS:localhost, IP:127.0.0.1) */
  caFile: string;
  /** SIGTERM to master (which ends its children), waits until it is gone, then removes dir */
  stop(): Promise<void>;
}

const SERVER_NAME = 'mailferry-cyrus';
/** From sasl2-bin; by its path, as /usr/sbin is often not on an ordinary user's PATH. */
const SASLPASSWD2 = '/usr/sbin/saslpasswd2';
const START_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/** Where scripts/install-cyrus.sh unpacked Cyrus, or undefined when it has not (tests then skip). */
export function cyrusInstallDir(): string | undefined {
  const dir = process.env.MAILFERRY_CYRUS_DIR ?? path.join(PACKAGE_ROOT, '.cyrus');
  return existsSync(path.join(dir, 'usr/lib/cyrus/bin/master')) && existsSync(path.join(dir, '.complete')) ? dir : undefined;
}

/** Why Cyrus cannot be started here, or undefined when it can. */
export function cyrusMissing(): string | undefined {
  if (!cyrusInstallDir()) return 'Cyrus IMAP is not unpacked (run scripts/install-cyrus.sh)';
  if (!existsSync(SASLPASSWD2)) return 'saslpasswd2 is missing (apt-get install sasl2-bin)';
  return undefined;
}

export async function startCyrus(opts: CyrusOptions): Promise<CyrusServer> {
  const install = cyrusInstallDir();
  if (!install) throw new Error(cyrusMissing());
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-cyrus-')); // mode 0700
  try {
    for (const sub of ['tls', 'config', 'spool', 'sieve', 'run', 'run/socket', 'run/lock', 'run/proc']) await fs.mkdir(path.join(dir, sub), { mode: 0o700 });
    const certs = await makeCertificates(path.join(dir, 'tls'));
    const identity = await cyrusIdentity();
    const server = new SandboxCyrus(await reachableInstall(install, dir), dir, certs.caFile, identity);
    for (const u of opts.users) await server.addUser(u.name, u.password);
    await server.launch(opts, certs);
    return server;
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

interface Identity {
  user: string;
  group: string;
  uid: number;
  gid: number;
}

class SandboxCyrus implements CyrusServer {
  readonly host = '127.0.0.1';
  port = 0;
  private master: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;
  private readonly users: Array<{ name: string; password: string }> = [];
  private readonly exitHook = () => {
    if (this.master?.pid !== undefined && isAlive(this.master.pid)) process.kill(this.master.pid, 'SIGTERM');
  };

  constructor(
    private readonly install: string,
    readonly dir: string,
    readonly caFile: string,
    private readonly identity: Identity,
  ) {}

  private get sasldb(): string {
    return path.join(this.dir, 'sasldb2');
  }

  async addUser(name: string, password: string): Promise<void> {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`invalid user name ${JSON.stringify(name)}`);
    if (/[\0\r\n]/.test(password)) throw new Error('password must not contain NUL, CR or LF');
    // -p: the password comes on stdin, never on argv.
    await new Promise<void>((resolve, reject) => {
      const child = execFile(SASLPASSWD2, ['-p', '-c', '-f', this.sasldb, '-u', SERVER_NAME, name], (err, _out, stderr) =>
        err ? reject(new Error(`saslpasswd2 ${name}: ${stderr.trim() || err.message}`)) : resolve(),
      );
      child.stdin!.end(password);
    });
    this.users.push({ name, password });
  }

  async launch(opts: CyrusOptions, certs: { certFile: string; keyFile: string }): Promise<void> {
    const conf = path.join(this.dir, 'imapd.conf');
    const bin = path.join(this.install, 'usr/lib/cyrus/bin');
    for (let attempt = 1; ; attempt++) {
      [this.port] = await freePortPair(this.host);
      await fs.writeFile(conf, this.imapdConf(opts, certs), { mode: 0o600 });
      await fs.writeFile(path.join(this.dir, 'cyrus.conf'), this.cyrusConf(bin, conf), { mode: 0o600 });
      // Cyrus drops to cyrus_user, which must own everything it writes and reads.
      if (process.getuid?.() === 0) await chownTree(this.dir, this.identity.uid, this.identity.gid);
      const failure = await this.spawnMaster(bin, conf);
      if (failure === undefined) break;
      await this.stopMaster();
      if (attempt >= START_ATTEMPTS) throw new Error(`cyrus failed to start: ${failure}`);
    }
    process.on('exit', this.exitHook);
    // A fresh user's INBOX is created at its first login (autocreate_quota); one login each now,
    // so parallel first logins never race to create it.
    for (const u of this.users) {
      const client = await connectPlain({ host: this.host, port: this.port, user: u.name, password: u.password });
      await client.logout();
    }
  }

  /** Starts master in the foreground (a child of ours); undefined once it greets on the port. */
  private async spawnMaster(bin: string, conf: string): Promise<string | undefined> {
    const log = await fs.open(path.join(this.dir, 'master.log'), 'w');
    const libdir = libraryDir(this.install);
    const child = spawn(path.join(bin, 'master'), ['-C', conf, '-M', path.join(this.dir, 'cyrus.conf'), '-p', path.join(this.dir, 'run/master.pid')], {
      stdio: ['ignore', log.fd, log.fd],
      env: { ...process.env, LD_LIBRARY_PATH: [libdir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
    });
    await log.close();
    this.master = child;
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`master exited (${signal ?? code})`)));
    child.once('error', () => undefined);
    const ready = waitForGreeting(() => net.connect({ host: this.host, port: this.port }), Date.now() + READY_TIMEOUT_MS).then(
      () => undefined,
      (err: Error) => err.message,
    );
    return Promise.race([ready, exited]);
  }

  private imapdConf(opts: CyrusOptions, certs: { certFile: string; keyFile: string }): string {
    const d = this.dir;
    const alt = opts.namespace === 'alt';
    return [
      '# Generated by mailferry src/sandbox/cyrus-server.ts',
      `configdirectory: ${d}/config`,
      'defaultpartition: default',
      `partition-default: ${d}/spool`,
      `sievedir: ${d}/sieve`,
      `proc_path: ${d}/run/proc`,
      `mboxname_lockpath: ${d}/run/lock`,
      `idlesocket: ${d}/run/socket/idle`,
      `notifysocket: ${d}/run/socket/notify`,
      `lmtpsocket: ${d}/run/socket/lmtp`,
      `servername: ${SERVER_NAME}`,
      `cyrus_user: ${this.identity.user}`,
      `cyrus_group: ${this.identity.group}`,
      'sasl_pwcheck_method: auxprop',
      'sasl_auxprop_plugin: sasldb',
      `sasl_sasldb_path: ${this.sasldb}`,
      'sasl_mech_list: PLAIN LOGIN',
      'allowplaintext: yes',
      `munge8bit: ${opts.munge8bit === false ? 'no' : 'yes'}`,
      // INBOX made at first login, with no quota (0 = unlimited).
      'autocreate_quota: 0',
      `altnamespace: ${alt ? 'yes' : 'no'}`,
      `unixhierarchysep: ${alt ? 'yes' : 'no'}`,
      // 0: no size limit, so the corpus' 20 MB message fits.
      'maxmessagesize: 0',
      `tls_server_cert: ${certs.certFile}`,
      `tls_server_key: ${certs.keyFile}`,
      'syslog_prefix: mailferry-cyrus',
      '',
    ].join('\n');
  }

  /** Commands by absolute path: master ignores service_path for them. */
  private cyrusConf(bin: string, conf: string): string {
    return [
      'START {',
      `  recover cmd="${bin}/ctl_cyrusdb -C ${conf} -r"`,
      '}',
      'SERVICES {',
      `  imap cmd="${bin}/imapd -C ${conf}" listen="${this.host}:${this.port}" prefork=0`,
      '}',
      'EVENTS {',
      '}',
      '',
    ].join('\n');
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      process.off('exit', this.exitHook);
      await this.stopMaster();
      await fs.rm(this.dir, { recursive: true, force: true, maxRetries: 5 });
    })();
    return this.stopping;
  }

  private async stopMaster(): Promise<void> {
    const pid = this.master?.pid;
    this.master = undefined;
    if (pid === undefined || !isAlive(pid)) return;
    process.kill(pid, 'SIGTERM');
    if (!(await waitGone(pid, STOP_TIMEOUT_MS))) {
      process.kill(pid, 'SIGKILL');
      await waitGone(pid, STOP_TIMEOUT_MS);
    }
  }
}

/** The directory holding the unpacked libcyrus*.so (multiarch: usr/lib/<triplet>/). */
function libraryDir(install: string): string {
  const lib = path.join(install, 'usr/lib');
  for (const entry of readdirSync(lib)) if (existsSync(path.join(lib, entry, 'libcyrus.so.0'))) return path.join(lib, entry);
  return lib;
}

/**
 * The unpacked Cyrus, where its processes can reach it. As root they run as nobody, who may not
 * traverse the directories above the repository (a clone inside a 0700 temporary directory):
 * then they get a copy (6 MB) inside the server's own directory, which is theirs.
 */
async function reachableInstall(install: string, dir: string): Promise<string> {
  if (process.getuid?.() !== 0) return install;
  const copy = path.join(dir, 'install');
  await execFileP('cp', ['-a', install, copy]);
  return copy;
}

/** Cyrus will not run as root: as root its processes run as nobody, else as the current user. */
async function cyrusIdentity(): Promise<Identity> {
  if (process.getuid?.() !== 0) {
    const me = os.userInfo();
    const { stdout } = await execFileP('id', ['-gn']);
    return { user: me.username, group: stdout.trim(), uid: me.uid, gid: me.gid };
  }
  const { stdout } = await execFileP('getent', ['passwd', 'nobody']);
  const [, , uid, gid] = stdout.trim().split(':');
  const { stdout: group } = await execFileP('getent', ['group', gid!]);
  return { user: 'nobody', group: group.split(':')[0]!, uid: Number(uid), gid: Number(gid) };
}

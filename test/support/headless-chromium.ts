import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * Headless Chromium (Debian package `chromium`) for the tests that look at a generated page the way
 * a user's browser does. Each launch has its own throw-away profile and its own process group, ended
 * by its PID when the test is done with it.
 */
const BINARY = 'chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--hide-scrollbars'];
const TIMEOUT_MS = 60_000;

/** Why the Chromium tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error === undefined && probe.status === 0) return undefined;
  return `no \`${BINARY}\` to run (install the Debian package: apt-get install chromium; CI's .ci/run does)`;
}

interface Launch {
  child: ChildProcess;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  end: () => void;
}

function launch(args: readonly string[], extraStdio: readonly 'pipe'[] = []): Launch {
  const profile = mkdtempSync(join(tmpdir(), 'mf-chromium-'));
  const child = spawn(BINARY, [...FLAGS, `--user-data-dir=${profile}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', ...extraStdio],
    // Its own process group: Chromium's helpers (zygote, renderer) end with it, by its PID.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      rmSync(profile, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
  const end = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  return { child, exited, end };
}

async function runToEnd(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const run = launch(args);
  const timer = setTimeout(run.end, TIMEOUT_MS);
  try {
    const result = await run.exited;
    if (result.code !== 0) throw new Error(`chromium exited with ${result.code}: ${result.stderr.slice(-2000)}`);
    return result;
  } finally {
    clearTimeout(timer);
    run.end();
  }
}

/** The page's DOM after its scripts ran, serialized (`--dump-dom`). */
export async function dumpDom(url: string): Promise<string> {
  return (await runToEnd(['--dump-dom', url])).stdout;
}

/** A PNG of the page's first `width`×`height` pixels (`--screenshot`). */
export async function screenshot(url: string, file: string, width: number, height: number): Promise<void> {
  await runToEnd([`--screenshot=${file}`, `--window-size=${width},${height}`, url]);
}

type CdpMessage = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };

/**
 * One page driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: Chromium reads
 * NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4), no port opened.
 */
export class CdpPage {
  /** Every protocol event of the page's session, in order. */
  readonly events: CdpMessage[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private sessionId = '';

  private constructor(private readonly run: Launch) {
    const out = run.child.stdio[4] as Readable;
    let buffered = '';
    out.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      for (let end = buffered.indexOf('\0'); end >= 0; end = buffered.indexOf('\0')) {
        this.receive(JSON.parse(buffered.slice(0, end)) as CdpMessage);
        buffered = buffered.slice(end + 1);
      }
    });
    void run.exited.then((r) => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited (${r.code}): ${r.stderr.slice(-2000)}`));
      this.pending.clear();
    }, () => undefined);
  }

  /** Starts Chromium with a blank page and attaches to it, with the Page, Runtime, Network and Log domains on. */
  static async open(width: number, height: number): Promise<CdpPage> {
    const page = new CdpPage(launch(['--remote-debugging-pipe', `--window-size=${width},${height}`, 'about:blank'], ['pipe', 'pipe']));
    try {
      const { targetId } = await page.send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await page.send('Target.attachToTarget', { targetId, flatten: true });
      page.sessionId = String(sessionId);
      for (const domain of ['Page', 'Runtime', 'Network', 'Log']) await page.send(`${domain}.enable`);
      await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    } catch (err) {
      await page.close();
      throw err;
    }
    return page;
  }

  /** A command on the page's session (or the browser's, before attaching or with `browser`). */
  send(method: string, params: Record<string, unknown> = {}, browser = false): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const message: CdpMessage = { id, method, params, ...(browser || this.sessionId === '' ? {} : { sessionId: this.sessionId }) };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${method}`)), TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      (this.run.child.stdio[3] as Writable).write(`${JSON.stringify(message)}\0`);
    });
  }

  /** Loads `url` and waits until it has loaded (its scripts have run). */
  async navigate(url: string): Promise<void> {
    const { errorText } = await this.send('Page.navigate', { url });
    if (errorText !== undefined) throw new Error(`navigation to ${url} failed: ${String(errorText)}`);
    const check = `location.href === ${JSON.stringify(url)} && document.readyState === 'complete'`;
    for (const deadline = Date.now() + TIMEOUT_MS; !(await this.evaluate<boolean>(check)); ) {
      if (Date.now() > deadline) throw new Error(`${url} did not finish loading`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The value of a JavaScript expression in the page (JSON-serialisable results only). */
  async evaluate<T>(expression: string): Promise<T> {
    const reply = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    const details = reply.exceptionDetails as { text?: string; exception?: { description?: string } } | undefined;
    if (details !== undefined) throw new Error(`page script failed: ${details.exception?.description ?? details.text}`);
    return (reply.result as { value: T }).value;
  }

  /** A real mouse click (pressed and released) at the centre of the first element `selector` matches. */
  async click(selector: string): Promise<void> {
    const box = await this.evaluate<{ x: number; y: number } | null>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`);
    if (box === null) throw new Error(`nothing matches ${selector}`);
    for (const type of ['mousePressed', 'mouseReleased']) {
      await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
    }
  }

  /** Asks Chromium to quit, then ends its process group by its PID if it has not; resolves once its profile is gone. */
  async close(): Promise<void> {
    const grace = setTimeout(this.run.end, 5000);
    try {
      await this.send('Browser.close', {}, true).catch(() => undefined);
      await this.run.exited.catch(() => undefined);
    } finally {
      clearTimeout(grace);
      this.run.end();
    }
  }

  private receive(message: CdpMessage): void {
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) p?.reject(new Error(`${message.error.message}`));
      else p?.resolve(message.result ?? {});
      return;
    }
    if (message.method !== undefined) this.events.push(message);
  }
}

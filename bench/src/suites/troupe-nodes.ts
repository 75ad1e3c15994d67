/**
 * Real `troupe node` processes (the built CLI, as `troupe cluster` starts
 * them: gateway on, info logging to a pipe) for the `gateway` and `scale`
 * suites: what production runs, not harness test nodes. Status over the IPC
 * channel the CLI already speaks; CPU time from /proc/<pid>/stat.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, killOnExit, onLines } from '@troupe/child-process';
import { processCpuSeconds } from '../noise.js';

/** bench/dist/suites → apps/cli/dist/main.js */
const CLI = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'apps', 'cli', 'dist', 'main.js');
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;

/**
 * The nodes' environment: this one's, without NODE_EXTRA_CA_CERTS. Where it
 * is set (as on the project's bench machine, for its HTTPS proxy), Node builds
 * its whole TLS root store at start-up: 50–90 ms of CPU per process there,
 * which a cluster of 32 pays 32 times. These nodes speak ws:// to 127.0.0.1
 * only and never use that store; a deployment that needs it keeps it.
 */
function nodeEnv(cookie: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TROUPE_COOKIE: cookie, TROUPE_LOG_FORMAT: 'json' };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

interface Status {
  name: string;
  http: string | null;
  mesh: string;
  connected: string[];
}

export interface TroupeNode {
  readonly name: string;
  readonly child: ChildProcess;
  /** Gateway URL. */
  http: string;
  mesh: string;
  status(): Promise<Status>;
  /** Visible peers as this node's `nodeup` / `nodedown` log lines tell (no request to the node). */
  readonly seen: ReadonlySet<string>;
  /** CPU time (user + system) this process used so far, ms. */
  cpuMs(): number;
}

function cpuMsOf(pid: number): number {
  const s = processCpuSeconds(pid);
  if (s === null) throw new Error(`no CPU time for process ${pid} (gone, or no /proc)`);
  return s * 1000;
}

export class TroupeCluster {
  readonly nodes: TroupeNode[] = [];
  private readonly cookie = randomBytes(24).toString('base64url');
  private nextId = 1;
  /** Woken by every `nodeup` / `nodedown` line of any node. */
  private changed: (() => void) | null = null;

  /** `nodeFlags`: node flags for every node process (e.g. `--cpu-prof`); `cliArgs`: more `troupe node` arguments (e.g. `--tick-ms`). */
  constructor(
    private readonly nodeFlags: string[] = [],
    private readonly cliArgs: string[] = [],
  ) {}

  /** Starts `n` nodes (the first alone, the others joining it); resolves when all are ready. */
  static async start(n: number, nodeFlags: string[] = [], cliArgs: string[] = []): Promise<TroupeCluster> {
    const c = new TroupeCluster(nodeFlags, cliArgs);
    try {
      const first = await c.launch([]);
      await Promise.all(Array.from({ length: n - 1 }, () => c.launch([first.mesh])));
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  private launch(join: string[]): Promise<TroupeNode> {
    const short = `s${this.nextId++}`;
    const args = [...this.nodeFlags, CLI, 'node', '--name', short, '--host', HOST, '--port', '0', '--dist-port', '0', '--no-local-discovery', ...this.cliArgs];
    for (const j of join) args.push('--join', j);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: nodeEnv(this.cookie) });
    killOnExit(child);
    const tail: string[] = [];
    const keep = (l: string): void => {
      tail.push(l);
      if (tail.length > 20) tail.shift();
    };
    // The node logs each visible peer's `nodeup` / `nodedown` (JSON lines on a pipe): the mesh
    // is followed from them, not by polling every node's status (which costs the nodes CPU while they mesh).
    const seen = new Set<string>();
    onLines(child.stdout!, (l) => {
      keep(l);
      const m = /"msg":"node(up|down) ([^" ]+)/.exec(l);
      if (m === null || l.includes('(hidden)')) return;
      if (m[1] === 'up') seen.add(m[2]!);
      else seen.delete(m[2]!);
      this.changed?.();
    });
    onLines(child.stderr!, keep);
    let seq = 0;
    const waiting = new Map<number, (s: Status) => void>();
    return new Promise<TroupeNode>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${short} not ready after ${START_TIMEOUT_MS / 1000} s:\n${tail.join('\n')}`)), START_TIMEOUT_MS);
      void exited(child).then((x) => {
        clearTimeout(timer);
        fail(new Error(`${short} exited (${x.signal ?? x.code}):\n${tail.join('\n')}`));
      });
      child.on('message', (m: { t?: string; id?: number; status?: Status }) => {
        if (m.t === 'ready' && m.status !== undefined) {
          clearTimeout(timer);
          const node: TroupeNode = {
            name: m.status.name,
            child,
            http: m.status.http ?? '',
            mesh: m.status.mesh,
            status: () =>
              new Promise<Status>((res) => {
                const id = ++seq;
                waiting.set(id, res);
                child.send({ t: 'status', id });
              }),
            cpuMs: () => cpuMsOf(child.pid!),
            seen,
          };
          this.nodes.push(node);
          ok(node);
        } else if (m.t === 'status' && m.id !== undefined && m.status !== undefined) {
          waiting.get(m.id)?.(m.status);
          waiting.delete(m.id);
        }
      });
    });
  }

  /** CPU time all node processes used so far, ms. */
  cpuMs(): number {
    return this.nodes.reduce((sum, n) => sum + n.cpuMs(), 0);
  }

  /**
   * Resolves when every node sees all the others (visible peers): waits for
   * their log lines to say so, then confirms with each node's status.
   */
  async awaitMesh(timeoutMs = 60_000): Promise<void> {
    const t0 = performance.now();
    const want = this.nodes.length - 1;
    let quiet = false;
    for (;;) {
      // Asked when the lines say so, and after a second without any line (should one be missed).
      if (quiet || this.nodes.every((n) => n.seen.size >= want)) {
        const seen = await Promise.all(this.nodes.map((n) => n.status()));
        if (seen.every((s) => s.connected.length >= want)) return;
      }
      const left = timeoutMs - (performance.now() - t0);
      if (left <= 0) {
        const seen = await Promise.all(this.nodes.map((n) => n.status()));
        throw new Error(`mesh incomplete after ${timeoutMs} ms: ${seen.map((s) => `${s.name} ${s.connected.length}`).join(', ')}`);
      }
      quiet = await new Promise<boolean>((r) => {
        const t = setTimeout(() => r(true), Math.min(1000, left));
        this.changed = () => {
          clearTimeout(t);
          r(false);
        };
      });
      this.changed = null;
    }
  }

  /** Stops every node (no drain: the whole cluster goes) and waits for their exits. */
  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const gone = exited(n.child);
        if (n.child.connected) n.child.send({ t: 'stop', drain: false });
        else n.child.kill('SIGTERM');
        const late = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(late);
      }),
    );
  }
}

/**
 * The test side of the harness: forks real node processes, forms the mesh,
 * and hands out a control handle per node (requests over IPC, OS signals
 * for kill/pause/resume, restart with a new creation, partition/heal).
 *
 * Clean-up: every node process is tracked in a module-wide set; `stop()`,
 * `stopAllClusters()` (for `afterEach`) and a process 'exit' hook SIGKILL
 * whatever is left, and each node process exits by itself when its IPC
 * channel closes. Node processes listen only on ephemeral ports, so killing
 * them releases every port the harness used.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Dest, ExitReason, Pid, ProcessInfo, Ref } from '@troupe/actor-core';
import { CONFIG_ENV, now, type FromNode, type HarnessEvent, type NodeConfig, type NodeTransportConfig, type ToNode } from './protocol.js';
import { RemoteError, fromWire, toWire, type WireValue } from './wire.js';

export const HOST = '127.0.0.1';
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_START_TIMEOUT_MS = 20_000;
const DEFAULT_MESH_TIMEOUT_MS = 10_000;
const OUTPUT_KEEP = 32 * 1024;

export interface ClusterOptions {
  /** How many nodes (named `n1`, `n2`, ...) or their short names (`a`, `b`); `@127.0.0.1` is appended. Default 3. */
  nodes?: number | string[];
  /** The shared cookie; default: random per cluster. */
  cookie?: string;
  /** Transport settings for every node (e.g. `{ tickMs: 250, tickTimeoutMs: 1000 }`). */
  transport?: NodeTransportConfig;
  /** Scenario modules (absolute paths or file URLs) every node imports. */
  scenarios?: string[];
  /**
   * How node processes run: `src` (TypeScript sources through tsx, workspace
   * packages mapped to their src like the vitest aliases), `dist` (built
   * JavaScript), or `auto` (default): `src` when the harness itself was
   * loaded from TypeScript (vitest), else `dist`.
   */
  runtime?: 'auto' | 'src' | 'dist';
  /** Form the full mesh before returning (default true). */
  connect?: boolean;
  startTimeoutMs?: number;
  meshTimeoutMs?: number;
  /** Forward node log lines at or above this level as `log` events (default `info`). */
  logLevel?: NodeConfig['logLevel'];
  /** Pass node processes' stdout/stderr (and log lines) through to this process's stderr. */
  verbose?: boolean;
  /** Extra `node` flags for the node processes (e.g. `['--cpu-prof']`). */
  nodeArgs?: string[];
}

/** Per-node overrides for `cluster.addNode`. */
export interface AddNodeOptions {
  cookie?: string;
  transport?: NodeTransportConfig;
  creation?: number;
  /** Connect it to the cluster and wait for the mesh (default true). */
  join?: boolean;
}

// ---- global clean-up -------------------------------------------------------------

const liveChildren = new Set<ChildProcess>();
const liveClusters = new Set<Cluster>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort (the test runner exits, or an assertion threw past teardown).
  process.on('exit', () => {
    for (const c of liveChildren) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Stops every cluster still running (use in `afterEach`, so a failed test cleans up too). */
export async function stopAllClusters(): Promise<void> {
  await Promise.all([...liveClusters].map((c) => c.stop()));
}

// ---- locating the node entry script ---------------------------------------------

interface Launch {
  entry: string;
  execArgv: string[];
  env: Record<string, string>;
}

function launchFor(runtime: 'auto' | 'src' | 'dist'): Launch {
  const here = import.meta.url;
  const fromTs = here.endsWith('.ts');
  const mode = runtime === 'auto' ? (fromTs ? 'src' : 'dist') : runtime;
  if (mode === 'src') {
    const srcDir = fromTs ? new URL('./', here) : new URL('../src/', here);
    const entry = fileURLToPath(new URL('node-main.ts', srcDir));
    const tsconfig = fileURLToPath(new URL('../tsconfig.src.json', srcDir));
    const tsx = createRequire(fileURLToPath(here)).resolve('tsx');
    // tsx maps @troupe/* to their TypeScript sources through tsconfig paths: the same code the test imports.
    return { entry, execArgv: ['--import', tsx], env: { TSX_TSCONFIG_PATH: tsconfig } };
  }
  const distDir = fromTs ? new URL('../dist/', here) : new URL('./', here);
  const entry = fileURLToPath(new URL('node-main.js', distDir));
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: build the harness (npm run build) or use runtime 'src'`);
  return { entry, execArgv: [], env: {} };
}

// ---- one node ------------------------------------------------------------------------

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

type Waiter = () => void;

/** How a node process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/**
 * Control handle for one node process. Survives `restart()`: the handle
 * then drives the new process (same name, new creation, new URL).
 */
export class NodeHandle {
  /** `short@127.0.0.1`. */
  readonly name: string;
  url = '';
  creation = 0;
  /** Every event this node reported, in arrival order, across restarts. */
  readonly events: HarnessEvent[] = [];
  /** Nodes this node currently reports as connected (from its nodeup/nodedown events). */
  readonly connected = new Set<string>();
  /** Set once the current process has ended. */
  exited: ProcessExit | null = null;
  paused = false;
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private output = '';
  /** @internal */ readonly changed = new EventEmitter();

  constructor(
    readonly cluster: Cluster,
    readonly short: string,
    private cfg: NodeConfig,
  ) {
    this.name = cfg.name;
    this.changed.setMaxListeners(0);
  }

  /** The cookie this node was started with. */
  get cookie(): string {
    return this.cfg.cookie;
  }

  /** The OS process id (undefined before start). */
  get osPid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== null && this.exited === null;
  }

  /** The last ~32 KiB of the process's stdout/stderr (for failure messages). */
  get recentOutput(): string {
    return this.output;
  }

  /** @internal Forks the node process and resolves when it is listening. */
  async start(launch: Launch, timeoutMs: number, verbose: boolean): Promise<void> {
    this.exited = null;
    this.paused = false;
    this.connected.clear();
    const child = fork(launch.entry, [], {
      execArgv: launch.execArgv,
      env: { ...process.env, ...launch.env, [CONFIG_ENV]: JSON.stringify(this.cfg) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    liveChildren.add(child);
    const keep = (chunk: Buffer): void => {
      if (verbose) process.stderr.write(`[${this.short}] ${chunk.toString()}`);
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_KEEP);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`node ${this.name} did not start within ${timeoutMs} ms\n${this.output}`));
      }, timeoutMs);
      child.on('message', (raw: unknown) => {
        const m = raw as FromNode;
        if (m.t === 'ready') {
          clearTimeout(timer);
          this.url = m.url;
          this.creation = m.creation;
          resolve();
        } else if (m.t === 'fatal') {
          clearTimeout(timer);
          reject(new Error(`node ${this.name} failed to start: ${m.error.name}: ${m.error.message}`));
        } else this.onMessage(m);
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`node ${this.name} exited during start\n${this.output}`));
      });
    });
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      if (this.child !== child) return;
      this.exited = { code, signal, at: now() };
      this.connected.clear();
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        this.pending.delete(id);
        p.reject(new Error(`node ${this.name} exited (${signal ?? code}) before replying`));
      }
      this.changed.emit('change');
      this.cluster.changed.emit('change');
    });
    await ready;
  }

  private onMessage(m: FromNode): void {
    if (m.t === 'reply') {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(fromWire(m.value));
      else p.reject(new RemoteError(m.error));
    } else if (m.t === 'event') {
      const e = fromWire(m.event) as HarnessEvent;
      if (e.kind === 'nodeup') this.connected.add(e.node);
      else if (e.kind === 'nodedown') this.connected.delete(e.node);
      this.events.push(e);
      this.changed.emit('change');
      this.cluster.changed.emit('change');
    }
  }

  /** Sends one request to the node process; rejects with `RemoteError` if it threw there. */
  request<T = unknown>(op: string, args: unknown[] = [], timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<T> {
    const child = this.child;
    if (child === null || !this.alive || !child.connected) return Promise.reject(new Error(`node ${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`node ${this.name}: '${op}' got no reply within ${timeoutMs} ms${this.paused ? ' (the node is paused)' : ''}`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const msg: ToNode = { t: 'req', id, op, args: args.map((a) => toWire(a)) };
      child.send(msg, (err) => {
        if (err === null || err === undefined) return;
        const p = this.pending.get(id);
        if (p === undefined) return;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(err);
      });
    });
  }

  // ---- node-side operations ---------------------------------------------------------

  /** Runs scenario `name` (exported by a scenario module) on this node with `args`; resolves to its result. */
  run<T = unknown>(name: string, ...args: unknown[]): Promise<T> {
    return this.request<T>('run', [name, args]);
  }

  connect(url: string): Promise<string> {
    return this.request<string>('connect', [url]);
  }

  nodes(kind?: 'visible' | 'hidden' | 'connected'): Promise<string[]> {
    return this.request<string[]>('nodes', [kind]);
  }

  disconnect(node: string): Promise<boolean> {
    return this.request<boolean>('disconnect', [node]);
  }

  /** Spawns a built-in process: `idle` (waits forever) or `echo` (a GenServer replying with the request). */
  spawn(kind: 'idle' | 'echo', opts: { name?: string } = {}): Promise<Pid> {
    return this.request<Pid>('spawn', [kind, opts]);
  }

  /** Spawns a probe: a process that reports every message it gets (DOWN, EXIT, others) as an event. */
  async probe(opts: { trapExit?: boolean; name?: string } = {}): Promise<Probe> {
    const r = await this.request<{ id: number; pid: Pid }>('probe', [opts]);
    return new Probe(this, r.id, r.pid);
  }

  /** `node.call(dest, request, timeoutMs)` from outside any process on this node. */
  call<T = unknown>(dest: Dest, request: unknown, timeoutMs?: number): Promise<T> {
    return this.request<T>('call', [dest, request, timeoutMs], (timeoutMs ?? 5000) + DEFAULT_REQUEST_TIMEOUT_MS);
  }

  send(dest: Dest, msg: unknown): Promise<void> {
    return this.request<void>('send', [dest, msg]);
  }

  exit(pid: Pid, reason: ExitReason): Promise<void> {
    return this.request<void>('exit', [pid, reason]);
  }

  isAlive(pid: Pid): Promise<boolean> {
    return this.request<boolean>('isAlive', [pid]);
  }

  whereis(name: string): Promise<Pid | null> {
    return this.request<Pid | null>('whereis', [name]);
  }

  processInfo(pid: Pid): Promise<ProcessInfo | null> {
    return this.request<ProcessInfo | null>('processInfo', [pid]);
  }

  processCount(): Promise<number> {
    return this.request<number>('processCount');
  }

  // ---- events ------------------------------------------------------------------------------

  /** The index the next event will get: pass it as `since` to wait only for later events. */
  mark(): number {
    return this.events.length;
  }

  /** The first event (at index ≥ `since`, default 0) matching `pred`; waits up to `timeoutMs` (default 5 s). */
  waitEvent<E extends HarnessEvent = HarnessEvent>(
    pred: (e: HarnessEvent) => e is E,
    opts?: { since?: number; timeoutMs?: number },
  ): Promise<E>;
  waitEvent(pred: (e: HarnessEvent) => boolean, opts?: { since?: number; timeoutMs?: number }): Promise<HarnessEvent>;
  waitEvent(pred: (e: HarnessEvent) => boolean, opts: { since?: number; timeoutMs?: number } = {}): Promise<HarnessEvent> {
    let i = opts.since ?? 0;
    return waitUntil(
      this.changed,
      () => {
        for (; i < this.events.length; i++) if (pred(this.events[i]!)) return this.events[i]!;
        return undefined;
      },
      opts.timeoutMs ?? 5000,
      () => `an event on ${this.name} (last events: ${JSON.stringify(this.events.slice(-5))})`,
    );
  }

  /** Waits until `count` events (since `since`) match `pred`; resolves with them. */
  waitEvents(pred: (e: HarnessEvent) => boolean, count: number, opts: { since?: number; timeoutMs?: number } = {}): Promise<HarnessEvent[]> {
    const since = opts.since ?? 0;
    return waitUntil(
      this.changed,
      () => {
        const found = this.events.slice(since).filter(pred);
        return found.length >= count ? found.slice(0, count) : undefined;
      },
      opts.timeoutMs ?? 5000,
      () => `${count} events on ${this.name} (have ${this.events.slice(since).filter(pred).length})`,
    );
  }

  /** The next `nodedown` of `node` seen here (since `since`). */
  waitNodeDown(node: string, opts: { since?: number; timeoutMs?: number } = {}): Promise<Extract<HarnessEvent, { kind: 'nodedown' }>> {
    return this.waitEvent((e): e is Extract<HarnessEvent, { kind: 'nodedown' }> => e.kind === 'nodedown' && e.node === node, opts);
  }

  waitNodeUp(node: string, opts: { since?: number; timeoutMs?: number } = {}): Promise<Extract<HarnessEvent, { kind: 'nodeup' }>> {
    return this.waitEvent((e): e is Extract<HarnessEvent, { kind: 'nodeup' }> => e.kind === 'nodeup' && e.node === node, opts);
  }

  /** Log lines this node forwarded (level ≥ the cluster's `logLevel`). */
  logs(): Extract<HarnessEvent, { kind: 'log' }>[] {
    return this.events.filter((e): e is Extract<HarnessEvent, { kind: 'log' }> => e.kind === 'log');
  }

  // ---- OS-level control -----------------------------------------------------------------------

  /** SIGKILL; resolves when the process is gone. Returns the wall-clock time the signal was sent. */
  async kill(): Promise<number> {
    return this.signal('SIGKILL', true);
  }

  /** SIGSTOP: the process freezes (sockets stay open, nothing is read, written or ticked). Returns the signal time. */
  async pause(): Promise<number> {
    const at = await this.signal('SIGSTOP', false);
    this.paused = true;
    return at;
  }

  /** SIGCONT. */
  async resume(): Promise<number> {
    const at = await this.signal('SIGCONT', false);
    this.paused = false;
    return at;
  }

  private async signal(sig: NodeJS.Signals, waitExit: boolean): Promise<number> {
    const child = this.child;
    if (child === null || !this.alive) throw new Error(`node ${this.name} is not running`);
    const gone = waitExit ? new Promise<void>((r) => child.once('exit', () => r())) : null;
    const at = now();
    child.kill(sig);
    if (gone !== null) await gone;
    return at;
  }

  /**
   * Stops the current process (SIGKILL if still running) and starts a new one
   * with the same name and a new creation; it joins the cluster through a
   * running node unless `join: false`. Pids of the old incarnation stay dead.
   */
  async restart(opts: { creation?: number; join?: boolean } = {}): Promise<void> {
    if (this.alive) await this.kill();
    const old = this.creation;
    let creation = opts.creation;
    while (creation === undefined || creation === old) creation = randomInt(1, 2 ** 31 - 1);
    this.cfg = { ...this.cfg, creation };
    await this.cluster.launchNode(this);
    if (opts.join ?? true) await this.cluster.join(this);
  }

  /** Graceful stop: closes the transport (peers see `connection_closed`), then the process exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || !this.alive) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    if (this.paused) child.kill('SIGCONT');
    try {
      await this.request('stop', [], 3000);
    } catch {
      // not answering: fall through to SIGKILL
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }

  /** @internal Immediate teardown. */
  async destroy(): Promise<void> {
    const child = this.child;
    if (child === null || !this.alive) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await gone;
  }
}

/** A probe process on one node: link/monitor from it, read what it received from the node's events. */
export class Probe {
  constructor(
    readonly node: NodeHandle,
    readonly id: number,
    readonly pid: Pid,
  ) {}

  /** Monitors each target from the probe; resolves to the refs, in order. */
  monitor(...targets: (Pid | string | { name: string; node: string })[]): Promise<Ref[]> {
    return this.node.request<Ref[]>('probeMonitor', [this.id, targets]);
  }

  demonitor(ref: Ref): Promise<boolean> {
    return this.node.request<boolean>('probeDemonitor', [this.id, ref]);
  }

  link(...pids: Pid[]): Promise<void> {
    return this.node.request<void>('probeLink', [this.id, pids]);
  }

  unlink(pid: Pid): Promise<void> {
    return this.node.request<void>('probeUnlink', [this.id, pid]);
  }

  send(dest: Dest, msg: unknown): Promise<void> {
    return this.node.request<void>('probeSend', [this.id, dest, msg]);
  }

  exit(pid: Pid, reason: ExitReason): Promise<void> {
    return this.node.request<void>('probeExit', [this.id, pid, reason]);
  }

  /** DOWN messages this probe got (so far). */
  downs(since = 0): Extract<HarnessEvent, { kind: 'down' }>[] {
    return this.node.events.slice(since).filter((e): e is Extract<HarnessEvent, { kind: 'down' }> => e.kind === 'down' && e.probe === this.id);
  }

  /** EXIT messages this (trapping) probe got (so far). */
  exits(since = 0): Extract<HarnessEvent, { kind: 'exit' }>[] {
    return this.node.events.slice(since).filter((e): e is Extract<HarnessEvent, { kind: 'exit' }> => e.kind === 'exit' && e.probe === this.id);
  }

  messages(since = 0): unknown[] {
    return this.node.events.slice(since).filter((e) => e.kind === 'message' && e.probe === this.id).map((e) => (e as { msg: unknown }).msg);
  }

  nextDown(opts: { since?: number; timeoutMs?: number } = {}): Promise<Extract<HarnessEvent, { kind: 'down' }>> {
    return this.node.waitEvent((e): e is Extract<HarnessEvent, { kind: 'down' }> => e.kind === 'down' && e.probe === this.id, opts);
  }

  nextExit(opts: { since?: number; timeoutMs?: number } = {}): Promise<Extract<HarnessEvent, { kind: 'exit' }>> {
    return this.node.waitEvent((e): e is Extract<HarnessEvent, { kind: 'exit' }> => e.kind === 'exit' && e.probe === this.id, opts);
  }

  nextMessage(opts: { since?: number; timeoutMs?: number } = {}): Promise<unknown> {
    return this.node
      .waitEvent((e) => e.kind === 'message' && e.probe === this.id, opts)
      .then((e) => (e as { msg: unknown }).msg);
  }

  /** Waits until this probe has received `count` DOWN messages (since `since`). */
  async waitDowns(count: number, opts: { since?: number; timeoutMs?: number } = {}): Promise<Extract<HarnessEvent, { kind: 'down' }>[]> {
    const es = await this.node.waitEvents((e) => e.kind === 'down' && e.probe === this.id, count, opts);
    return es as Extract<HarnessEvent, { kind: 'down' }>[];
  }
}

// ---- the cluster ------------------------------------------------------------------------------

/** Re-checks `probe` on every `change` of `em` until it returns a value; rejects after `timeoutMs`. */
function waitUntil<T>(em: EventEmitter, probe: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
  const first = probe();
  if (first !== undefined) return Promise.resolve(first);
  return new Promise<T>((resolve, reject) => {
    const check: Waiter = () => {
      let v: T | undefined;
      try {
        v = probe();
      } catch (e) {
        done();
        reject(e as Error);
        return;
      }
      if (v === undefined) return;
      done();
      resolve(v);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      em.off('change', check);
    };
    em.on('change', check);
  });
}

/** Several node processes forming one Troupe cluster on 127.0.0.1. */
export class Cluster {
  readonly cookie: string;
  readonly nodes: NodeHandle[] = [];
  /** @internal Fires on any event from any node. */
  readonly changed = new EventEmitter();
  private readonly launch: Launch;
  private stopped = false;

  private constructor(private readonly opts: ClusterOptions) {
    this.cookie = opts.cookie ?? randomBytes(24).toString('base64url');
    const launch = launchFor(opts.runtime ?? 'auto');
    this.launch = { ...launch, execArgv: [...launch.execArgv, ...(opts.nodeArgs ?? [])] };
    this.changed.setMaxListeners(0);
  }

  /** Starts the node processes (in parallel) and, unless `connect: false`, forms the full mesh. */
  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    installExitHook();
    const c = new Cluster(opts);
    liveClusters.add(c);
    const spec = opts.nodes ?? 3;
    const shorts = typeof spec === 'number' ? Array.from({ length: spec }, (_, i) => `n${i + 1}`) : spec;
    try {
      for (const s of shorts) c.nodes.push(new NodeHandle(c, s, c.configFor(s, {})));
      await Promise.all(c.nodes.map((h) => c.launchNode(h)));
      if (opts.connect ?? true) await c.formMesh();
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  private configFor(short: string, o: AddNodeOptions): NodeConfig {
    const cfg: NodeConfig = {
      name: `${short}@${HOST}`,
      cookie: o.cookie ?? this.cookie,
      transport: { ...this.opts.transport, ...o.transport },
      scenarioModules: this.opts.scenarios ?? [],
      logLevel: this.opts.logLevel ?? 'info',
      echoLogs: this.opts.verbose ?? false,
    };
    if (o.creation !== undefined) cfg.creation = o.creation;
    return cfg;
  }

  /** @internal */
  async launchNode(h: NodeHandle): Promise<void> {
    if (this.stopped) throw new Error('cluster stopped');
    await h.start(this.launch, this.opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, this.opts.verbose ?? false);
  }

  /** The handle for `short` (`a`) or full name (`a@127.0.0.1`). */
  node(name: string): NodeHandle {
    const h = this.nodes.find((x) => x.short === name || x.name === name);
    if (h === undefined) throw new Error(`no node ${name} in this cluster (${this.nodes.map((x) => x.short).join(', ')})`);
    return h;
  }

  /** Starts one more node (e.g. with another cookie); joins the mesh unless `join: false`. */
  async addNode(short: string, o: AddNodeOptions = {}): Promise<NodeHandle> {
    const h = new NodeHandle(this, short, this.configFor(short, o));
    this.nodes.push(h);
    await this.launchNode(h);
    if (o.join ?? true) await this.join(h);
    return h;
  }

  private running(): NodeHandle[] {
    return this.nodes.filter((h) => h.alive && !h.paused);
  }

  private async formMesh(): Promise<void> {
    const [first, ...rest] = this.running();
    if (first === undefined) return;
    // Everyone dials the first node; the transport's transitive mesh connects the rest.
    await Promise.all(rest.map((h) => h.connect(first.url)));
    await this.waitForMesh();
  }

  /** @internal Connects `h` to a running node and waits until it sees every running node. */
  async join(h: NodeHandle): Promise<void> {
    const via = this.running().find((x) => x !== h);
    if (via === undefined) return;
    await h.connect(via.url);
    await this.waitForMesh();
  }

  /**
   * Resolves when every running (not paused) node reports every other running
   * node as connected. Nodes started with another cookie (never joined) are
   * excluded with `except`.
   */
  waitForMesh(opts: { timeoutMs?: number; except?: NodeHandle[] } = {}): Promise<void> {
    const except = new Set(opts.except ?? []);
    const members = (): NodeHandle[] => this.running().filter((h) => !except.has(h) && h.cookie === this.cookie);
    return waitUntil(
      this.changed,
      () => {
        const ms = members();
        for (const h of ms) for (const o of ms) if (o !== h && !h.connected.has(o.name)) return undefined;
        return true;
      },
      opts.timeoutMs ?? this.opts.meshTimeoutMs ?? DEFAULT_MESH_TIMEOUT_MS,
      () => `the mesh (${members().map((h) => `${h.short}: [${[...h.connected].join(', ')}]`).join('; ')})`,
    ).then(() => undefined);
  }

  /**
   * Drops all traffic between `a` and `b` at their transports, both
   * directions (the transport's `block` test hook): the connection goes down
   * on both sides after the tick timeout, and neither reconnects until `heal`.
   */
  async partition(a: NodeHandle, b: NodeHandle): Promise<void> {
    await Promise.all([a.request('block', [b.name]), b.request('block', [a.name])]);
  }

  /** Undoes `partition(a, b)` and reconnects them; resolves when both see each other up. */
  async heal(a: NodeHandle, b: NodeHandle, timeoutMs = 10_000): Promise<void> {
    await Promise.all([a.request('unblock', [b.name]), b.request('unblock', [a.name])]);
    const sa = a.mark();
    const sb = b.mark();
    const upA = a.connected.has(b.name) ? Promise.resolve() : a.waitNodeUp(b.name, { since: sa, timeoutMs });
    const upB = b.connected.has(a.name) ? Promise.resolve() : b.waitNodeUp(a.name, { since: sb, timeoutMs });
    // The smaller name dials, as the transport's mesh does.
    const [dialer, target] = a.name < b.name ? [a, b] : [b, a];
    if (!dialer.connected.has(target.name)) await dialer.connect(target.url);
    await Promise.all([upA, upB]);
  }

  /** Stops every node process (SIGKILL: teardown must not depend on a node being healthy). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    liveClusters.delete(this);
    await Promise.all(this.nodes.map((h) => h.destroy()));
  }
}

/** Starts a cluster; see `ClusterOptions`. */
export function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  return Cluster.start(opts);
}

/**
 * The control handle for one node process: forks it, sends it requests over
 * IPC, collects its events, and signals the OS process (kill, pause,
 * resume, restart).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Dest, ExitReason, Pid, ProcessInfo } from '@troupe/actor-core';
import { exited as childExited, killAfter, killOnExit, PendingRequests, type ChildExit } from '@troupe/child-process';
import type { Cluster } from './cluster.js';
import type { Launch } from './launch.js';
import { Probe } from './probe.js';
import { CONFIG_ENV, now, type FromNode, type HarnessEvent, type NodeConfig, type ToNode } from './protocol.js';
import { waitUntil } from './wait-until.js';
import { RemoteError, fromWire, toWire } from './wire.js';

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const OUTPUT_KEEP = 32 * 1024;

/** How a node process ended. */
export interface ProcessExit extends ChildExit {
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
  private readonly requests = new PendingRequests();
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
    killOnExit(child);
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
      if (this.child !== child) return;
      this.exited = { code, signal, at: now() };
      this.connected.clear();
      this.requests.rejectAll(() => new Error(`node ${this.name} exited (${signal ?? code}) before replying`));
      this.changed.emit('change');
      this.cluster.changed.emit('change');
    });
    await ready;
  }

  private onMessage(m: FromNode): void {
    if (m.t === 'reply') {
      if (m.ok) this.requests.resolve(m.id, fromWire(m.value));
      else this.requests.reject(m.id, new RemoteError(m.error));
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
    return this.requests.request({
      timeoutMs,
      timeoutMessage: () => `node ${this.name}: '${op}' got no reply within ${timeoutMs} ms${this.paused ? ' (the node is paused)' : ''}`,
      send: (id) => {
        const msg: ToNode = { t: 'req', id, op, args: args.map((a) => toWire(a)) };
        child.send(msg, (err) => {
          if (err !== null && err !== undefined) this.requests.reject(id, err);
        });
      },
    }) as Promise<T>;
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
    const gone = waitExit ? childExited(child) : null;
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
    const gone = childExited(child);
    if (this.paused) child.kill('SIGCONT');
    try {
      await this.request('stop', [], 3000);
    } catch {
      // not answering: fall through to SIGKILL
    }
    killAfter(child, 3000);
    await gone;
  }

  /** @internal Immediate teardown. */
  async destroy(): Promise<void> {
    const child = this.child;
    if (child === null || !this.alive) return;
    const gone = childExited(child);
    child.kill('SIGKILL');
    await gone;
  }
}

/**
 * The test side of the harness: starts real node processes (each a
 * `NodeHandle`), forms the mesh, and partitions and heals it.
 *
 * Clean-up: `stop()` and `stopAllClusters()` (for `afterEach`) SIGKILL
 * every node process; each is also SIGKILLed when this process exits, and
 * exits by itself when its IPC channel closes. Node processes listen only
 * on ephemeral ports, so killing them releases every port the harness used.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { trackCluster, untrackCluster } from './cleanup.js';
import { launchFor, type Launch } from './launch.js';
import { NodeHandle } from './node-handle.js';
import type { NodeConfig, NodeTransportConfig } from './protocol.js';
import { waitUntil } from './wait-until.js';

export const HOST = '127.0.0.1';
const DEFAULT_START_TIMEOUT_MS = 20_000;
const DEFAULT_MESH_TIMEOUT_MS = 10_000;

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
    const c = new Cluster(opts);
    trackCluster(c);
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
    untrackCluster(this);
    await Promise.all(this.nodes.map((h) => h.destroy()));
  }
}

/** Starts a cluster; see `ClusterOptions`. */
export function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  return Cluster.start(opts);
}

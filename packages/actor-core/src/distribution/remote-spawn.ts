import type { Pid, Ref } from '../pid.js';
import { errText, formatReason } from '../exit-reason.js';
import { BadArgError } from '../errors.js';
import type { Behaviour, ProcessBody, ProcessContext, SpawnOptions } from '../types.js';
import { Status, type Proc } from '../internal/process.js';
import type { Signal } from './signals.js';
import type { PeerTable } from './peer-table.js';
import { NotExposedError, SpawnFailedError, SpawnNodeDownError, SpawnTimeoutError } from './remote-spawn-errors.js';

/** What an exposed factory returns: a body or behaviour, optionally with spawn options. */
export type SpawnSpec =
  | ProcessBody<unknown>
  | Behaviour<unknown, unknown>
  | { body: ProcessBody<unknown> | Behaviour<unknown, unknown>; opts?: SpawnOptions };

/**
 * Builds a process for a spawn request from another node. `args` come from
 * the peer: validate them. Throwing refuses the spawn (`spawn_failed`).
 */
export type SpawnFactory = (args: readonly unknown[], info: { readonly from: Pid | null; readonly node: string }) => SpawnSpec;

export interface RemoteSpawnOptions {
  /** Link the requesting process and the child before the child runs. */
  link?: boolean;
  /** Monitor the child before it runs; the promise then gives `[pid, ref]`. */
  monitor?: boolean;
  /** ms to wait for the spawn reply (default 30 000). A child whose reply comes later is killed. */
  timeoutMs?: number;
}

export const DEFAULT_SPAWN_TIMEOUT = 30_000;

interface PendingSpawn {
  readonly ref: Ref;
  readonly node: string;
  readonly name: string;
  readonly origin: Proc | null;
  readonly link: boolean;
  readonly monitor: boolean;
  readonly resolve: (v: Pid | [Pid, Ref]) => void;
  readonly reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Remote spawn (Erlang's `spawn_request`): the allow-list of factories peers
 * may run here, requests to peers and their replies, and requests from peers.
 */
export class RemoteSpawn {
  /** The remote-spawn allow-list. */
  private readonly exposedFactories = new Map<string, SpawnFactory>();
  private readonly spawns = new Map<string, PendingSpawn>();

  constructor(private readonly t: PeerTable) {}

  expose(name: string, factory: SpawnFactory): void {
    if (typeof name !== 'string' || name.length === 0) throw new BadArgError(`expose: a name must be a non-empty string, got ${formatReason(name)}`);
    if (typeof factory !== 'function') throw new BadArgError(`expose: '${name}' needs a factory function`);
    this.exposedFactories.set(name, factory);
  }

  unexpose(name: string): boolean {
    return this.exposedFactories.delete(name);
  }

  exposed(): string[] {
    return [...this.exposedFactories.keys()];
  }

  spawn(origin: ProcessContext | null, nodeName: string, name: string, args: readonly unknown[], opts: RemoteSpawnOptions): Promise<Pid | [Pid, Ref]> {
    const node = this.t.node;
    const link = opts.link === true;
    const monitor = opts.monitor === true;
    const o = origin === null ? null : node.lookup(origin.self);
    if (origin !== null && o === null) return Promise.reject(new BadArgError(`spawnRemote: origin ${origin.self.toString()} is not a live process of ${node.name}`));
    if ((link || monitor) && o === null) return Promise.reject(new BadArgError('spawnRemote: link and monitor need an origin process'));
    if (typeof name !== 'string' || !Array.isArray(args)) return Promise.reject(new BadArgError('spawnRemote: name must be a string and args an array'));
    if (nodeName === node.name) return this.spawnHere(o, name, args, link, monitor);
    if (!this.t.peers.has(nodeName)) return Promise.reject(new SpawnNodeDownError(nodeName, name));
    const timeoutMs = opts.timeoutMs ?? DEFAULT_SPAWN_TIMEOUT;
    const ref = node.makeRef();
    return new Promise<Pid | [Pid, Ref]>((resolve, reject) => {
      const ps: PendingSpawn = { ref, node: nodeName, name, origin: o, link, monitor, resolve, reject, timer: null };
      this.spawns.set(ref.key, ps);
      if (Number.isFinite(timeoutMs)) {
        ps.timer = setTimeout(() => this.settle(ps, new SpawnTimeoutError(nodeName, name, timeoutMs)), Math.max(0, Math.min(timeoutMs, 2 ** 31 - 1)));
      }
      try {
        this.t.out(nodeName, { k: 'spawn_request', ref, from: o?.self ?? null, name, args: [...args], link, monitor });
      } catch (e) {
        // Unencodable args: the caller's error.
        this.spawns.delete(ref.key);
        if (ps.timer !== null) clearTimeout(ps.timer);
        reject(e);
      }
    });
  }

  /** `name` went down: every spawn pending on it fails. */
  nodeDown(name: string): void {
    for (const ps of [...this.spawns.values()]) {
      if (ps.node === name) this.settle(ps, new SpawnNodeDownError(name, ps.name));
    }
  }

  /** A spawn "on" this node goes through the same allow-list, without a round trip. */
  private spawnHere(o: Proc | null, name: string, args: readonly unknown[], link: boolean, monitor: boolean): Promise<Pid | [Pid, Ref]> {
    const node = this.t.node;
    const made = this.build(name, args, o?.self ?? null, node.name);
    if (!Array.isArray(made)) {
      const [code, detail] = [made.error, made.message];
      return Promise.reject(code === 'not_exposed' ? new NotExposedError(node.name, name) : new SpawnFailedError(node.name, name, code, detail));
    }
    let pid: Pid;
    try {
      pid = node.spawnFrom(o, made[0], made[1], link);
    } catch (e) {
      return Promise.reject(new SpawnFailedError(node.name, name, 'badarg', errText(e)));
    }
    return Promise.resolve(monitor ? [pid, node.monitor(o!, pid)] : pid);
  }

  private build(
    name: string,
    args: readonly unknown[],
    from: Pid | null,
    fromNode: string,
  ): [ProcessBody<unknown> | Behaviour<unknown, unknown>, SpawnOptions] | { error: string; message: string } {
    const factory = this.exposedFactories.get(name);
    if (factory === undefined) return { error: 'not_exposed', message: `'${name}' is not exposed` };
    let spec: SpawnSpec;
    try {
      spec = factory(args, { from, node: fromNode });
    } catch (e) {
      return { error: 'spawn_failed', message: errText(e) };
    }
    let body: unknown = spec;
    let opts: SpawnOptions = {};
    if (typeof spec === 'object' && spec !== null && 'body' in spec) {
      body = spec.body;
      opts = { ...spec.opts };
    }
    const ok = typeof body === 'function' || (typeof body === 'object' && body !== null && typeof (body as Behaviour<unknown, unknown>).handle === 'function');
    if (!ok) return { error: 'badarg', message: `factory of '${name}' returned neither a process body nor a behaviour` };
    opts.label ??= name;
    return [body as ProcessBody<unknown> | Behaviour<unknown, unknown>, opts];
  }

  private settle(ps: PendingSpawn, result: Error | Pid): void {
    if (!this.spawns.delete(ps.ref.key)) return;
    if (ps.timer !== null) clearTimeout(ps.timer);
    if (result instanceof Error) {
      ps.reject(result);
      return;
    }
    const t = this.t;
    const child = result;
    const o = ps.origin;
    const alive = o !== null && o.status !== Status.Dead;
    if (ps.link) {
      if (alive) {
        (o.links ??= new Map()).set(child.key, child);
        t.tie(ps.node, o);
      } else {
        // The child holds a link to an origin that died before the reply: give it the origin's reason.
        t.out(ps.node, { k: 'exit', from: o!.self, to: child, reason: o!.exitReason, link: true });
      }
    }
    if (ps.monitor) {
      if (alive) {
        (o.monitors ??= new Map()).set(ps.ref.key, { ref: ps.ref, owner: o.self, target: child, object: child });
        t.tie(ps.node, o);
      } else {
        t.out(ps.node, { k: 'demonitor', from: o!.self, ref: ps.ref });
      }
    }
    ps.resolve(ps.monitor ? [child, ps.ref] : child);
  }

  /** A `spawn_request` from `fromNode` (its sender already checked). */
  handleRequest(fromNode: string, s: Extract<Signal, { k: 'spawn_request' }>): void {
    const t = this.t;
    const node = t.node;
    const reply = (pid: Pid | null, error: string | null, message: string | null): void => {
      t.out(fromNode, { k: 'spawn_reply', ref: s.ref, pid, error, message });
    };
    if ((s.link || s.monitor) && s.from === null) return reply(null, 'badarg', 'link and monitor need a requesting process');
    const made = this.build(s.name, s.args, s.from, fromNode);
    if (!Array.isArray(made)) return reply(null, made.error, made.message);
    let pid: Pid;
    try {
      pid = node.spawn(made[0], made[1]);
    } catch (e) {
      return reply(null, 'badarg', errText(e));
    }
    // The child is queued, not run: link and monitor exist before its first instruction.
    const p = node.lookup(pid)!;
    if (s.link) {
      (p.links ??= new Map()).set(s.from!.key, s.from!);
      t.tie(fromNode, p);
    }
    if (s.monitor) {
      (p.monitoredBy ??= new Map()).set(s.ref.key, { ref: s.ref, owner: s.from!, target: pid, object: pid });
      t.remoteMonitors.set(s.ref.key, p);
      t.tie(fromNode, p);
    }
    reply(pid, null, null);
  }

  handleReply(fromNode: string, s: Extract<Signal, { k: 'spawn_reply' }>): void {
    const ps = this.spawns.get(s.ref.key);
    if (ps === undefined || ps.node !== fromNode) {
      // Abandoned (timed out): nobody holds the child's pid, so it must not linger.
      if (s.pid !== null && s.pid.node === fromNode) this.t.out(fromNode, { k: 'exit', from: this.t.node.external, to: s.pid, reason: 'kill', link: false });
      return;
    }
    if (s.pid !== null && s.pid.node === fromNode) return this.settle(ps, s.pid);
    const err = s.error ?? 'spawn_failed';
    this.settle(ps, err === 'not_exposed' ? new NotExposedError(fromNode, ps.name) : new SpawnFailedError(fromNode, ps.name, err, s.message ?? err));
  }
}

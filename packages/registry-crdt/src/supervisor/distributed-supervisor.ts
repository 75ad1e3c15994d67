import { inspect } from 'node:util';
import { BadArgError, GenServer, TroupeError, CallTimeoutError, nodeOf, type Node, type Origin, type Pid, type ViaRegistry } from '@troupe/actor-core';
import { resolveMembership } from '../membership/resolve.js';
import type { MemberInfo, MembersMode } from '../membership/types.js';
import { Hlc } from '../registry/hlc.js';
import type { Registry } from '../registry/registry.js';
import { Replica, type ReplicaStats, replicaTiming, type ReplicaTiming } from '../sync/replica.js';
import { Waiters } from '../sync/waiters.js';
import { behaviourOf, registerBehaviour } from './behaviours.js';
import { DRAIN_KEY, acceptSupValue, isRecord, type SupValue } from './record.js';
import { homeOf, rendezvous } from './rendezvous.js';
import { SupervisorCore, type LocalChildView, type Redirect } from './supervisor-core.js';
import { callServer, supServerName, supervisorServer } from './supervisor-server.js';
import { normalizeSpec } from './spec.js';
import { ChildRef, type DeliveryPolicy } from './child-ref.js';
import type { ChildBehaviour, DistChildCounts, DistChildInfo, DistChildSpec, DistStartChildResult, DistributedSupervisorOptions, PlacementStrategy } from './types.js';


/** Hops a `startChild` follows when the chosen home refuses (draining) or is gone; the last one forces (Horde's proxy TTL). */
const MAX_HOPS = 3;

export interface DrainResult {
  /** Children stopped here and relinquished to their next home. */
  handedOff: number;
  /** Relinquished records not adopted before the timeout, or at once when no other member could (peers adopt them once this node leaves). */
  notAdopted: number;
}

/**
 * Horde.DynamicSupervisor semantics over the owner-authoritative CRDT:
 * one instance per node forms a cluster service.
 *
 * - `startChild` places a child on one `alive` member by rendezvous hashing
 *   of its stable id; the home starts it under its local server (restart
 *   policies and intensity as in actor-core) and writes the child record;
 * - a member that goes down (or whose instance stops) loses its records on
 *   every survivor at once; each computes the same ranking without it and
 *   the first survivor restarts the child (temporary children are not),
 *   later-ranked ones step in only if nobody did within a grace period;
 * - `drain` hands children over (optional hand-off data) through
 *   relinquished records, stop-then-start: never two live copies;
 * - duplicates (a netsplit: both sides restart what they lost) are settled
 *   by the Registry's conflict rule on the child records, computed alike on
 *   every node; only the loser's node stops its copy, with the exit reason
 *   `{ name_conflict: { name: id, winner, ... } }`. With a `registry`, named
 *   children are claimed there with their record's stamp, so both orders agree.
 *
 * Reads (`whichChildren`, `countChildren`, `whereisName`) use the local
 * replica: no round trip, eventually consistent.
 */
export class DistributedSupervisor implements ViaRegistry<string> {
  readonly name: string;
  readonly mode: MembersMode;
  readonly partition: string | undefined;
  readonly service: string;

  private constructor(
    readonly node: Node,
    opts: DistributedSupervisorOptions,
    service: string,
    private readonly replica: Replica<SupValue>,
    private readonly core: SupervisorCore,
    private readonly strategy: PlacementStrategy,
    private readonly handoffTimeoutMs: number,
    private readonly registry: Registry | undefined,
    private readonly waiters: Waiters,
  ) {
    this.name = opts.name;
    this.mode = opts.members ?? 'participation';
    this.partition = opts.partition;
    this.service = service;
  }

  /** Registers a child behaviour on `node` (do it on every node, before specs name it). */
  static registerBehaviour<Args, H>(node: Node, name: string, behaviour: ChildBehaviour<Args, H>): void {
    registerBehaviour(node, name, behaviour);
  }

  /** Starts this node's instance; resolves once it synced with the members that answered (`whenReady`). */
  static async start(origin: Origin, opts: DistributedSupervisorOptions): Promise<DistributedSupervisor> {
    const node = nodeOf(origin);
    if (typeof opts?.name !== 'string' || opts.name.length === 0) throw new BadArgError('DistributedSupervisor.start: name must be a non-empty string');
    if (opts.strategy !== undefined && opts.strategy !== 'one_for_one') throw new BadArgError(`DistributedSupervisor.start: only strategy 'one_for_one' is supported`);
    const intensity = opts.intensity ?? 3;
    const period = opts.period ?? 5;
    if (!Number.isInteger(intensity) || intensity < 0) throw new BadArgError('DistributedSupervisor.start: intensity must be an integer >= 0');
    if (typeof period !== 'number' || !(period > 0)) throw new BadArgError('DistributedSupervisor.start: period must be a number of seconds > 0');
    const dist = opts.distribution ?? 'rendezvous';
    if (dist !== 'rendezvous' && (typeof dist !== 'object' || dist === null || typeof dist.rank !== 'function')) {
      throw new BadArgError(`DistributedSupervisor.start: distribution must be 'rendezvous' or { rank(key, nodes) }`);
    }
    const strategy = dist === 'rendezvous' ? rendezvous : dist;
    if (opts.registry !== undefined && opts.registry.node !== node) throw new BadArgError('DistributedSupervisor.start: the registry must run on the same node');
    const conflict = opts.registry?.conflict ?? opts.conflict ?? 'first';
    if (conflict !== 'first' && conflict !== 'latest') throw new BadArgError(`DistributedSupervisor.start: conflict must be 'first' or 'latest'`);
    const timing = replicaTiming(opts);
    const { service, source } = await resolveMembership(node, 'dsup', opts.name, opts, timing);
    let core: SupervisorCore | undefined;
    const waiters = new Waiters();
    const replica = await Replica.start<SupValue>({
      ...timing,
      node,
      service,
      members: source,
      acceptValue: (v, o) => acceptSupValue(v, o.peer),
      // Nothing reaches the replica before `core` is set (both happen in this tick).
      onDiff: (d) => {
        core?.onDiff(d);
        if (waiters.size > 0) waiters.poke();
      },
      onAlive: () => {
        if (waiters.size > 0) waiters.poke();
      },
    });
    const orphanGraceMs = opts.orphanGraceMs ?? 2000;
    core = new SupervisorCore({
      node,
      name: opts.name,
      replica,
      strategy,
      conflict,
      registry: opts.registry,
      hlc: new Hlc(),
      intensity,
      period,
      orphanGraceMs,
      tickMs: Math.max(5, Math.min(100, Math.floor(orphanGraceMs / 4))),
    });
    const res = await GenServer.start(node, supervisorServer, core, { name: supServerName(service) });
    if (typeof res !== 'object' || !('ok' in res)) {
      await replica.stop();
      throw new TroupeError('TROUPE_ERR_START', `cannot start distributed supervisor ${opts.name} on ${node.name}: ${JSON.stringify(res)}`);
    }
    await replica.whenReady();
    return new DistributedSupervisor(node, opts, service, replica, core, strategy, opts.handoffTimeoutMs ?? 5000, opts.registry, waiters);
  }

  static startChild(origin: Origin, sup: DistributedSupervisor, spec: DistChildSpec): Promise<DistStartChildResult> {
    return sup.startChild(spec, origin);
  }

  static terminateChild(origin: Origin, sup: DistributedSupervisor, id: string): Promise<'ok' | { error: 'not_found' }> {
    return sup.terminateChild(id, origin);
  }

  static whichChildren(sup: DistributedSupervisor): DistChildInfo[] {
    return sup.whichChildren();
  }

  static countChildren(sup: DistributedSupervisor): DistChildCounts {
    return sup.countChildren();
  }

  // ---- children ------------------------------------------------------------------------------

  /**
   * Starts a child on its home: the first of the ranking of its id over the
   * `alive`, non-draining members. Throws `BadArgError` for a bad spec (an
   * unknown behaviour, args that are not plain data, ...).
   */
  async startChild(spec: DistChildSpec, origin: Origin = this.node): Promise<DistStartChildResult> {
    const { id, spec: wire } = normalizeSpec(this.node, spec, this.registry !== undefined);
    if (!this.replica.alive) return { error: 'not_running' };
    const excluded = new Set<string>();
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const have = this.core.running(id);
      if (have !== undefined) return { error: { already_started: have.value.pid, node: have.origin.peer } };
      const home = this.home(id, excluded.size === 0 ? this.core.targets() : this.core.targets().filter((n) => !excluded.has(n)));
      if (home === undefined) return { error: 'no_alive_members' };
      let r: unknown;
      try {
        r = await callServer(origin, { name: supServerName(this.service), node: home }, { $ds: 'start', key: id, spec: wire, force: hop === MAX_HOPS - 1 }, 30_000);
      } catch (e) {
        // The home went away meanwhile (or its instance stopped): try the next one. A timeout may have started it: report.
        if (e instanceof CallTimeoutError || !(e instanceof TroupeError)) throw e;
        excluded.add(home);
        continue;
      }
      if (typeof r === 'object' && r !== null && '$redirect' in (r as Redirect)) {
        excluded.add(home);
        continue;
      }
      return r as DistStartChildResult;
    }
    return { error: 'no_alive_members' };
  }

  /** Stops a child wherever it runs (shutdown per its spec) and removes it for good. */
  async terminateChild(id: string, origin: Origin = this.node): Promise<'ok' | { error: 'not_found' }> {
    const r = this.core.running(id);
    if (r === undefined) return { error: 'not_found' };
    const timeout = r.value.meta.shutdown === 'brutal_kill' ? 5000 : r.value.meta.shutdown + 5000;
    try {
      return (await callServer(origin, { name: supServerName(this.service), node: r.origin.peer }, { $ds: 'terminate', key: id }, timeout)) as 'ok' | { error: 'not_found' };
    } catch (e) {
      if (e instanceof CallTimeoutError || !(e instanceof TroupeError)) throw e;
      return { error: 'not_found' };
    }
  }

  /** Running children cluster-wide (one per id: the surviving copy), from the local replica. */
  whichChildren(): DistChildInfo[] {
    const out: DistChildInfo[] = [];
    if (!this.replica.alive) return out;
    for (const key of this.replica.engine.keys()) {
      if (key === DRAIN_KEY) continue;
      const e = this.core.running(key);
      if (e === undefined) continue;
      const v = e.value;
      out.push({ id: key, pid: v.pid, node: e.origin.peer, behaviour: v.meta.behaviour, restart: v.meta.restart, name: v.meta.named ? key : undefined, generation: v.gen });
    }
    return out;
  }

  countChildren(): DistChildCounts {
    let specs = 0;
    let active = 0;
    if (this.replica.alive) {
      for (const key of this.replica.engine.keys()) {
        if (key === DRAIN_KEY) continue;
        specs++;
        if (this.core.running(key) !== undefined) active++;
      }
    }
    return { specs, active, local: this.core.localCount };
  }

  /** Where `id` would be placed now (the first of its ranking over the placement targets). */
  homeOf(id: string): string | undefined {
    return this.home(id, this.core.targets());
  }

  private home(id: string, targets: readonly string[]): string | undefined {
    // The argmax needs no sort.
    return this.strategy === rendezvous ? homeOf(id, targets) : this.strategy.rank(id, targets)[0];
  }

  /** Placement targets: `alive` members not draining. */
  targets(): string[] {
    return this.core.targets();
  }

  /**
   * Resolves with the placement targets once there are at least `count`
   * (e.g. every node of the cluster synced): the awaitable form of polling
   * `targets()`. `WaitTimeoutError` after `timeoutMs` (default 5000).
   */
  whenTargets(count: number, opts: { timeoutMs?: number } = {}): Promise<string[]> {
    if (!Number.isInteger(count) || count < 1) return Promise.reject(new BadArgError(`whenTargets: count must be a positive integer, got ${String(count)}`));
    return this.waiters.wait(() => {
      const t = this.core.targets();
      return t.length >= count ? t : undefined;
    }, `${count} placement targets of ${this.name}, as seen from ${this.node.name}`, opts.timeoutMs);
  }

  // ---- ViaRegistry: `{ via: sup, name: childId }` -----------------------------------------------

  /** Names are the children's ids, given by `startChild`: registering from outside is refused. */
  registerName(_name: string, _pid: Pid): boolean {
    return false;
  }

  unregisterName(_name: string): void {}

  /**
   * Resolves to the pid of child `id` once this node sees it running (started
   * here or on a peer, or moved by a drain): the awaitable form of polling
   * `whereisName`. `WaitTimeoutError` after `timeoutMs` (default 5000).
   */
  whenRunning(id: string, opts: { timeoutMs?: number } = {}): Promise<Pid> {
    return this.waiters.wait(() => this.whereisName(id), `child '${id}' of ${this.name} to run, as seen from ${this.node.name}`, opts.timeoutMs);
  }

  whereisName(id: string): Pid | undefined {
    return this.core.running(id)?.value.pid;
  }

  /**
   * A location-transparent reference to child `id`: sends and calls through
   * it resolve the current pid at each attempt and retry per `policy`.
   */
  ref(id: string, policy?: DeliveryPolicy): ChildRef {
    return new ChildRef(this, id, policy);
  }

  /**
   * Calls `onChange` after every change of this node's replica (children
   * started, stopped, moved; members lost) until the returned function is
   * called. It runs inside the replica's update: keep it short and never throw.
   */
  onChange(onChange: () => void): () => void {
    return this.waiters.listen(() => {
      try {
        onChange();
      } catch (e) {
        this.node.logger.warn('distributed supervisor: a change listener threw', { sup: this.name, error: e instanceof Error ? e.message : String(e) });
      }
    });
  }

  send(id: string, msg: unknown): void {
    const pid = this.whereisName(id);
    if (pid === undefined) throw new BadArgError(`distributed supervisor ${this.name}: no running child '${id}'`);
    this.node.send(pid, msg);
  }

  // ---- service ------------------------------------------------------------------------------------

  members(): MemberInfo[] {
    return this.replica.members();
  }

  ready(): boolean {
    return this.replica.ready() && !this.core.draining;
  }

  whenReady(timeoutMs?: number): Promise<boolean> {
    return this.replica.whenReady(timeoutMs);
  }

  get running(): boolean {
    return this.replica.alive;
  }

  [inspect.custom](): string {
    return `DistributedSupervisor<${this.name} on ${this.node.name}${this.running ? `, ${this.countChildren().local} local children` : ', stopped'}>`;
  }

  stats(): ReplicaStats & SupervisorCore['counters'] & { local: number; orphans: number } {
    return { ...this.replica.stats(), ...this.core.counters, local: this.core.localCount, orphans: this.core.orphanCount };
  }

  /**
   * Graceful leave: marks this node draining (no new placements here), runs
   * each child's `handoff` hook, stops it with `{ shutdown: 'handoff' }` and
   * relinquishes it; the nodes the ranking now chooses start them with the
   * hand-off data. Waits (up to `handoffTimeoutMs`) for the adoptions, then
   * stops this instance; what is left is adopted once it has left.
   */
  async drain(origin: Origin = this.node): Promise<DrainResult> {
    if (!this.replica.alive) return { handedOff: 0, notAdopted: 0 };
    const dest = { name: supServerName(this.service), node: this.node.name };
    const list = (await callServer(origin, dest, { $ds: 'drain_begin' })) as LocalChildView[];
    let handedOff = 0;
    // Hooks run here, not in the server: they may call the child while the server keeps serving.
    await Promise.all(
      list.map(async (c) => {
        const hook = behaviourOf(this.node, c.behaviour)?.handoff;
        let ho: unknown;
        if (hook !== undefined) {
          try {
            ho = await withTimeout(Promise.resolve(hook(c.pid, this.node)), this.handoffTimeoutMs);
          } catch (e) {
            this.node.logger.warn('distributed supervisor: hand-off hook failed; the child moves without state', { sup: this.name, id: c.key, error: String(e) });
            ho = undefined;
          }
        }
        const r = await callServer(origin, dest, { $ds: 'handoff_stop', key: c.key, ho }, Infinity);
        if (r === 'ok') handedOff++;
      }),
    );
    const notAdopted = (await callServer(origin, dest, { $ds: 'drain_wait', timeoutMs: this.handoffTimeoutMs }, Infinity)) as number;
    await this.stop(origin);
    return { handedOff, notAdopted };
  }

  /**
   * Stops this node's instance: its children are shut down, then its replica
   * leaves — the other members restart those children (as after a crash).
   * Use `drain` to move them with their state instead.
   */
  async stop(origin: Origin = this.node): Promise<void> {
    if (!this.replica.alive) return;
    const dest = { name: supServerName(this.service), node: this.node.name };
    try {
      await callServer(origin, dest, { $ds: 'stop_all' }, Infinity);
    } catch {
      // Server already gone: the replica follows it.
    }
    await this.replica.stop();
  }

  /** @internal */
  get replicaOf(): Replica<SupValue> {
    return this.replica;
  }

  /** @internal Own records (running or relinquished) in the local replica. */
  ownRecordCount(): number {
    if (!this.replica.alive) return 0;
    let n = 0;
    for (const e of this.replica.engine.ownEntries()) if (isRecord(e.value)) n++;
    return n;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`hand-off hook: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

import { inspect } from 'node:util';
import { BadArgError, Pid, type Node, type ViaRegistry } from '@troupe/actor-core';
import type { Diff, Entry } from '../crdt/types.js';
import { NoLocalError } from '../errors.js';
import { resolveMembership, type MembershipOptions } from '../membership/resolve.js';
import type { MemberInfo, MembersMode } from '../membership/types.js';
import { Replica, type ReplicaStats, replicaTiming, type ReplicaTiming } from '../sync/replica.js';
import { adoptClaim, smallInt, winnerOf, type Claim, type ConflictRule } from './conflict.js';
import { Hlc } from './hlc.js';
import { Waiters } from '../sync/waiters.js';
import { IntMultiMap } from './int-multimap.js';

export interface RegistryOptions extends MembershipOptions, ReplicaTiming {
  /** The registry's name: nodes sharing it (and the partition) form one registry. */
  name: string;
  /** Which of two conflicting claims survives (default `first`). */
  conflict?: ConflictRule;
  /** Wall clock for claim timestamps (tests: skew). Default `Date.now`. */
  clock?: () => number;
}

/** A registered name as seen here. */
export interface RegistryEntry {
  name: string;
  pid: Pid;
  value: unknown;
}

export type RegisterResult = 'ok' | { error: 'already_registered'; pid: Pid };

/** What `lookup` gives on a node whose registry has stopped (it never throws). */
export interface Unavailable {
  error: 'registry_unavailable';
}

/** The exit reason a losing process gets (trappable, so it can hand state to `winner`). */
export interface NameConflict {
  name_conflict: { name: string; value: unknown; registry: string; winner: Pid };
}

export function isNameConflict(r: unknown): r is NameConflict {
  return typeof r === 'object' && r !== null && 'name_conflict' in r;
}

function isClaim(v: unknown, peer: string): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Claim;
  return c.pid instanceof Pid && c.pid.node === peer && Number.isFinite(c.at) && Number.isSafeInteger(c.lc) && c.lc >= 0;
}

/**
 * A cluster-wide registry of unique names with metadata (Horde.Registry,
 * without its failure modes):
 *
 * - a name is claimed by the node hosting the process (owner-authoritative);
 *   the claim is replicated by the delta-CRDT and dies with the process or
 *   its node;
 * - `lookup` reads the local replica: no network round trip;
 * - it is AP: two nodes can claim a name concurrently (or during a split).
 *   Every node then picks the same winner from immutable claim data
 *   (`compareClaims`); only the loser's own node acts, exiting the loser
 *   with `{ name_conflict: { name, value, registry, winner } }` and removing
 *   its claim. Exactly one survivor, never zero;
 * - it is a `via` registry for actor-core: `{ via: registry, name }` works
 *   with `send`, `GenServer.call` and `GenServer.start(..., { name })`.
 */
export class Registry implements ViaRegistry<string> {
  readonly name: string;
  readonly conflict: ConflictRule;
  readonly mode: MembersMode;
  readonly partition: string | undefined;
  private replica!: Replica<Claim>;
  private readonly hlc: Hlc;
  /** Own claim ids per local pid id (node and creation are ours). */
  private readonly byPid = new IntMultiMap();
  private conflictsResolved = 0;
  /** `whenRegistered` callers. */
  private readonly waiters = new Waiters();

  private constructor(
    readonly node: Node,
    opts: RegistryOptions,
  ) {
    this.name = opts.name;
    this.conflict = opts.conflict ?? 'first';
    this.mode = opts.members ?? 'participation';
    this.partition = opts.partition;
    this.hlc = new Hlc(opts.clock);
  }

  static async start(node: Node, opts: RegistryOptions): Promise<Registry> {
    if (typeof opts?.name !== 'string' || opts.name.length === 0) throw new BadArgError('Registry.start: name must be a non-empty string');
    if (opts.conflict !== undefined && opts.conflict !== 'first' && opts.conflict !== 'latest') throw new BadArgError(`Registry.start: conflict must be 'first' or 'latest'`);
    const reg = new Registry(node, opts);
    const timing = replicaTiming(opts);
    const { service, source } = await resolveMembership(node, 'registry', opts.name, opts, timing);
    reg.replica = await Replica.start<Claim>({
      ...timing,
      node,
      service,
      members: source,
      acceptValue: (v, o) => isClaim(v, o.peer),
      adopt: (c, o) => adoptClaim(c, o.peer),
      onDiff: (d) => reg.onDiff(d),
      tracks: (pid) => reg.byPid.has(pid.id),
      onLocalDown: (pid) => reg.dropPid(pid),
    });
    return reg;
  }

  // ---- writes --------------------------------------------------------------------------

  /**
   * Claims `name` for local `pid`. `already_registered` if a live claim is
   * visible here; otherwise `ok` — and if another node claimed it
   * concurrently, the conflict rule settles it once the claims meet.
   */
  register(name: string, pid: Pid, value: unknown = null): RegisterResult {
    return this.claim(name, pid, value, undefined);
  }

  /**
   * @internal `register` with a given claim stamp: the DistributedSupervisor
   * claims a child's name with its child record's stamp, so this registry
   * and the supervisor order duplicates identically (one authority, in effect).
   */
  registerStamped(name: string, pid: Pid, value: unknown, stamp: { at: number; lc: number }): RegisterResult {
    return this.claim(name, pid, value, stamp);
  }

  private claim(name: string, pid: Pid, value: unknown, stamp: { at: number; lc: number } | undefined): RegisterResult {
    checkName(name);
    if (!(pid instanceof Pid) || pid.node !== this.node.name || pid.creation !== this.node.creation) throw new NoLocalError(pid, 'register');
    const engine = this.replica.engine;
    const have = engine.entries(name);
    if (have !== undefined) {
      const w = winnerOf(this.conflict, have);
      // A local holder that already died (its DOWN not handled yet) does not block.
      if (w.origin.peer === this.node.name && !this.node.isAlive(w.value.pid)) this.dropPid(w.value.pid);
      else return { error: 'already_registered', pid: w.value.pid };
      const again = engine.entries(name);
      if (again !== undefined) return { error: 'already_registered', pid: winnerOf(this.conflict, again).value.pid };
    }
    let at: number;
    let lc: number;
    if (stamp === undefined) [at, lc] = this.hlc.now();
    else {
      ({ at, lc } = stamp);
      this.hlc.observe(at, lc);
    }
    // Read from a tuple holding a double, `lc` is a boxed double: 16 B more per claim unless made a small int.
    const e = engine.add(name, { pid, meta: value, at, lc: smallInt(lc) });
    this.byPid.add(pid.id, e.id);
    this.replica.watch(pid);
    this.replica.touch();
    this.waiters.poke();
    return 'ok';
  }

  /**
   * Resolves to the holder of `name` once it is registered, here or on a
   * peer (at once if it is): the awaitable form of polling `whereisName`.
   * Rejects with `WaitTimeoutError` after `timeoutMs` (default 5000; Infinity waits for ever).
   */
  whenRegistered(name: string, opts: { timeoutMs?: number } = {}): Promise<Pid> {
    try {
      checkName(name);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.waiters.wait(() => this.whereisName(name), `'${name}' to be registered in ${this.name} on ${this.node.name}`, opts.timeoutMs);
  }


  /** Removes this node's claim(s) on `name`; false if it holds none. */
  unregister(name: string): boolean {
    const engine = this.replica.engine;
    const es = engine.entries(name);
    if (es === undefined) return false;
    const mine = [...es].filter((e) => this.isOwn(e));
    for (const e of mine) this.removeOwn(e);
    if (mine.length > 0) this.replica.touch();
    return mine.length > 0;
  }

  /** Replaces the metadata of a name held by a local process; false if this node does not hold it. */
  updateValue(name: string, value: unknown): boolean {
    const engine = this.replica.engine;
    const es = engine.entries(name);
    if (es === undefined) return false;
    const w = winnerOf(this.conflict, es);
    if (!this.isOwn(w)) return false;
    engine.update(w.id, { pid: w.value.pid, meta: value, at: w.value.at, lc: w.value.lc });
    this.replica.touch();
    return true;
  }

  // ---- reads (local replica, never a round trip) -----------------------------------------

  /** The holder of `name` (the conflict winner if several claims are visible). */
  lookup(name: string): RegistryEntry | undefined | Unavailable {
    if (!this.replica.alive) return { error: 'registry_unavailable' };
    const es = this.replica.engine.entries(name);
    if (es === undefined) return undefined;
    const w = winnerOf(this.conflict, es);
    return { name, pid: w.value.pid, value: w.value.meta };
  }

  /** Every registered name matching `pred` (all of them without one). */
  select(pred?: (e: RegistryEntry) => boolean): RegistryEntry[] {
    const engine = this.replica.engine;
    const out: RegistryEntry[] = [];
    for (const name of engine.keys()) {
      const w = winnerOf(this.conflict, engine.entries(name)!);
      const e: RegistryEntry = { name, pid: w.value.pid, value: w.value.meta };
      if (pred === undefined || pred(e)) out.push(e);
    }
    return out;
  }

  /** Number of registered names. */
  count(): number {
    return this.replica.engine.keyCount;
  }

  /** `console.log(registry)` (also inside a `{ via }` name in an error): one line, not the replica. */
  [inspect.custom](): string {
    return `Registry<${this.name} on ${this.node.name}${this.replica?.alive === true ? `, ${this.count()} names` : ', stopped'}>`;
  }

  /** Names held by `pid`. */
  keysOf(pid: Pid): string[] {
    return this.select((e) => e.pid.equals(pid)).map((e) => e.name);
  }

  // ---- ViaRegistry (actor-core names) ---------------------------------------------------------

  registerName(name: string, pid: Pid): boolean {
    return this.register(name, pid) === 'ok';
  }

  unregisterName(name: string): void {
    this.unregister(name);
  }

  whereisName(name: string): Pid | undefined {
    const r = this.lookup(name);
    return r !== undefined && 'pid' in r ? r.pid : undefined;
  }

  send(name: string, msg: unknown): void {
    const pid = this.whereisName(name);
    if (pid === undefined) throw new BadArgError(`registry ${this.name}: no process is registered as '${name}'`);
    this.node.send(pid, msg);
  }

  // ---- service -------------------------------------------------------------------------------------

  /** Members of this registry and their status (`alive` ones are placement targets). */
  members(): MemberInfo[] {
    return this.replica.members();
  }

  ready(): boolean {
    return this.replica.ready();
  }

  whenReady(timeoutMs?: number): Promise<boolean> {
    return this.replica.whenReady(timeoutMs);
  }

  /** `indexBytes`: memory of the own-claims index, held outside the JS heap (not in `heapUsed`). */
  stats(): ReplicaStats & { conflictsResolved: number; names: number; indexBytes: number } {
    return { ...this.replica.stats(), conflictsResolved: this.conflictsResolved, names: this.replica.alive ? this.count() : 0, indexBytes: this.byPid.byteLength };
  }

  get running(): boolean {
    return this.replica.alive;
  }

  /** @internal */
  get replicaOf(): Replica<Claim> {
    return this.replica;
  }

  /** Stops the registry here: its claims vanish for the peers; lookups give `registry_unavailable`. */
  async stop(): Promise<void> {
    await this.replica.stop();
    this.byPid.clear();
  }

  // ---- internals -------------------------------------------------------------------------------------

  private isOwn(e: Entry<Claim>): boolean {
    const self = this.replica.engine.self;
    return e.origin.peer === self.peer && e.origin.inc === self.inc;
  }

  private removeOwn(e: Entry<Claim>): void {
    this.replica.engine.remove(e.id);
    this.byPid.delete(e.value.pid.id, e.id);
  }

  /** A local holder ended: its claims go. */
  private dropPid(pid: Pid): void {
    if (pid.node !== this.node.name || pid.creation !== this.node.creation) return;
    if (!this.replica.alive || !this.byPid.has(pid.id)) return;
    const engine = this.replica.engine;
    for (const id of this.byPid.take(pid.id)) engine.remove(id);
    this.replica.touch();
  }

  /**
   * New claims arrived (or were made): where a name now has several, the
   * node owning a loser exits it and withdraws its claim. Others only read
   * the winner.
   */
  private onDiff(d: Diff<Claim>): void {
    if (d.added.length === 0) return;
    this.settleConflicts(d);
    this.waiters.poke();
  }

  private settleConflicts(d: Diff<Claim>): void {
    const engine = this.replica.engine;
    const losers: [Entry<Claim>, Entry<Claim>][] = [];
    for (const e of d.added) {
      this.hlc.observe(e.value.at, e.value.lc);
      if (engine.entryCount(e.key) < 2) continue;
      const es = engine.entries(e.key)!;
      const w = winnerOf(this.conflict, es);
      for (const x of es) if (x !== w && this.isOwn(x)) losers.push([x, w]);
    }
    if (losers.length === 0) return;
    for (const [x, w] of losers) {
      if (!engine.ownEntry(x.id)) continue; // already withdrawn
      this.removeOwn(x);
      this.conflictsResolved++;
      const reason: NameConflict = { name_conflict: { name: x.key, value: x.value.meta, registry: this.name, winner: w.value.pid } };
      this.node.logger.info('registry: name conflict, exiting the loser', { registry: this.name, name: x.key, loser: x.value.pid.toString(), winner: w.value.pid.toString() });
      this.node.exit(x.value.pid, reason);
    }
    this.replica.touch();
  }
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new BadArgError(`registry: a name must be a non-empty string, got ${String(name)}`);
}

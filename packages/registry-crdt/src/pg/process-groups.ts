import { inspect } from 'node:util';
import { Pid, type Node, type Ref } from '@troupe/actor-core';
import type { Diff, Entry } from '../crdt/types.js';
import { NoLocalError, UnavailableError } from '../errors.js';
import { AutoMembers } from '../membership/auto.js';
import type { MemberInfo } from '../membership/types.js';
import { serviceKey } from '../sync/envelope.js';
import { Replica, type ReplicaStats, type ReplicaTiming } from '../sync/replica.js';
import { Waiters } from '../sync/waiters.js';

export interface ScopeOptions extends ReplicaTiming {
  /** The scope (an independent overlay, OTP pg's scope); default `troupe_pg`. */
  scope?: string;
}

/** A membership change, as delivered to `monitor` / `monitorScope` subscribers (OTP's `{Ref, join | leave, Group, Pids}`). */
export interface PgEvent {
  type: 'pg';
  ref: Ref;
  event: 'join' | 'leave';
  group: string;
  pids: Pid[];
}

export function isPgEvent(m: unknown): m is PgEvent {
  return typeof m === 'object' && m !== null && (m as PgEvent).type === 'pg' && 'ref' in m && 'group' in m;
}

interface Sub {
  readonly ref: Ref;
  readonly pid: Pid;
  /** null: the whole scope. */
  readonly group: string | null;
}

const DEFAULT_SCOPE = 'troupe_pg';
const scopes = new WeakMap<Node, Map<string, ProcessGroups>>();

/**
 * Process groups with scopes (OTP `pg`): each node writes only its own
 * processes' memberships; the delta-CRDT replicates them to every node
 * running the same scope; a member that dies leaves, a node that goes down
 * takes its members with it, and after a partition heals the scopes resync.
 * Reads are local and never touch the server.
 *
 * Membership is eventually consistent and not transitive (pg's model):
 * a node sees the groups of the nodes it is connected to.
 */
export class ProcessGroups {
  readonly scope: string;
  private replica!: Replica<Pid>;
  /** Own memberships: pid key -> group -> entry ids (one per join). */
  private readonly local = new Map<string, Map<string, number[]>>();
  private readonly subs = new Map<string, Sub>();
  private readonly byGroup = new Map<string, Set<Sub>>();
  private readonly scopeSubs = new Set<Sub>();
  /** `whenMembers` callers. */
  private readonly waiters = new Waiters();

  [inspect.custom](): string {
    return `ProcessGroups<${this.scope} on ${this.node.name}>`;
  }

  private constructor(readonly node: Node, scope: string) {
    this.scope = scope;
  }

  /** Starts the scope on `node` (one per node and scope name). */
  static async start(node: Node, opts: ScopeOptions = {}): Promise<ProcessGroups> {
    const scope = opts.scope ?? DEFAULT_SCOPE;
    let m = scopes.get(node);
    if (m === undefined) scopes.set(node, (m = new Map()));
    const have = m.get(scope);
    if (have !== undefined && have.replica?.alive === true) throw new Error(`pg scope ${scope} already runs on ${node.name}`);
    const pg = new ProcessGroups(node, scope);
    m.set(scope, pg);
    pg.replica = await Replica.start<Pid>({
      ...opts,
      node,
      service: serviceKey('pg', scope, undefined),
      members: new AutoMembers(),
      acceptValue: (v, o) => v instanceof Pid && v.node === o.peer,
      onDiff: (d) => pg.onDiff(d),
      onLocalDown: (pid) => pg.dropLocal(pid),
    });
    return pg;
  }

  /** The running scope `scope` on `node`, starting it if needed (used for service membership). */
  static async ensure(node: Node, scope: string, opts: ReplicaTiming = {}): Promise<ProcessGroups> {
    const have = scopes.get(node)?.get(scope);
    if (have !== undefined && have.replica?.alive) return have;
    return ProcessGroups.start(node, { ...opts, scope });
  }

  // ---- writes (local processes only) ----------------------------------------------

  /** Joins `pids` (local; may repeat: each join counts) to `group`. Throws NoLocalError for a remote pid. */
  join(group: string, pids: Pid | readonly Pid[]): 'ok' {
    const list = Array.isArray(pids) ? (pids as readonly Pid[]) : [pids as Pid];
    const engine = this.engine();
    for (const p of list) this.checkLocal(p, 'join');
    for (const pid of list) {
      const e = engine.add(group, pid);
      let groups = this.local.get(pid.key);
      if (groups === undefined) this.local.set(pid.key, (groups = new Map()));
      const ids = groups.get(group);
      if (ids === undefined) groups.set(group, [e.id]);
      else ids.push(e.id);
      this.replica.watch(pid);
    }
    this.replica.touch();
    this.waiters.poke();
    return 'ok';
  }

  /** Leaves once per pid; `not_joined` if none of them was a member. */
  leave(group: string, pids: Pid | readonly Pid[]): 'ok' | 'not_joined' {
    const list = Array.isArray(pids) ? (pids as readonly Pid[]) : [pids as Pid];
    const engine = this.engine();
    for (const p of list) this.checkLocal(p, 'leave');
    let any = false;
    for (const pid of list) {
      const groups = this.local.get(pid.key);
      const ids = groups?.get(group);
      if (ids === undefined) continue;
      engine.remove(ids.pop()!);
      any = true;
      if (ids.length === 0) groups!.delete(group);
      if (groups!.size === 0) this.local.delete(pid.key);
    }
    if (any) this.replica.touch();
    return any ? 'ok' : 'not_joined';
  }

  // ---- reads (local replica) ---------------------------------------------------------

  /** Every member of `group` on every connected node running the scope (a pid once per join). */
  members(group: string): Pid[] {
    const es = this.engine().entries(group);
    return es === undefined ? [] : [...es].map((e) => e.value);
  }

  /**
   * Resolves to the members of `group` once it has at least `count` (default
   * 1), joined here or on a peer: the awaitable form of polling `members`.
   * Rejects with `WaitTimeoutError` after `timeoutMs` (default 5000).
   */
  whenMembers(group: string, opts: { count?: number; timeoutMs?: number } = {}): Promise<Pid[]> {
    const count = opts.count ?? 1;
    return this.waiters.wait(
      () => {
        const m = this.members(group);
        return m.length >= count ? m : undefined;
      },
      `${count} member(s) of group '${group}' in scope ${this.scope} on ${this.node.name}`,
      opts.timeoutMs,
    );
  }

  /** Members of `group` on this node. */
  localMembers(group: string): Pid[] {
    const es = this.engine().entries(group);
    if (es === undefined) return [];
    const out: Pid[] = [];
    for (const e of es) if (e.origin.peer === this.node.name) out.push(e.value);
    return out;
  }

  /** Non-empty groups. */
  whichGroups(): string[] {
    return [...this.engine().keys()];
  }

  /** Groups with members on this node. */
  localGroups(): string[] {
    const out = new Set<string>();
    for (const e of this.engine().ownEntries()) out.add(e.key);
    return [...out];
  }

  // ---- subscriptions --------------------------------------------------------------------

  /**
   * Subscribes local `pid` to joins and leaves of `group`: returns the
   * current members; events arrive as `PgEvent` messages with `ref`.
   */
  monitor(pid: Pid, group: string): { ref: Ref; members: Pid[] } {
    this.checkLocal(pid, 'monitor');
    const sub = this.subscribe(pid, group);
    return { ref: sub.ref, members: this.members(group) };
  }

  /** Subscribes local `pid` to every group of the scope: returns all groups' members now. */
  monitorScope(pid: Pid): { ref: Ref; groups: Map<string, Pid[]> } {
    this.checkLocal(pid, 'monitorScope');
    const sub = this.subscribe(pid, null);
    const groups = new Map<string, Pid[]>();
    for (const g of this.whichGroups()) groups.set(g, this.members(g));
    return { ref: sub.ref, groups };
  }

  /** Ends a subscription: `ok`, or false if there is none. */
  demonitor(ref: Ref): 'ok' | false {
    const sub = this.subs.get(ref.key);
    if (sub === undefined) return false;
    this.unsubscribe(sub);
    return 'ok';
  }

  // ---- service ----------------------------------------------------------------------------

  /** Members of the scope (nodes running it) and their status. */
  membersInfo(): MemberInfo[] {
    return this.replica.members();
  }

  ready(): boolean {
    return this.replica.ready();
  }

  whenReady(timeoutMs?: number): Promise<boolean> {
    return this.replica.whenReady(timeoutMs);
  }

  stats(): ReplicaStats {
    return this.replica.stats();
  }

  get running(): boolean {
    return this.replica.alive;
  }

  /** @internal The replica (diagnostics and tests). */
  get replicaOf(): Replica<Pid> {
    return this.replica;
  }

  /** Stops the scope here: local memberships are gone (peers drop them when they see the server go). */
  async stop(): Promise<void> {
    await this.replica.stop();
    this.local.clear();
  }

  // ---- internals --------------------------------------------------------------------------

  private engine(): Replica<Pid>['engine'] {
    if (!this.replica.alive) throw new UnavailableError(`pg scope ${this.scope}`, this.node.name);
    return this.replica.engine;
  }

  private checkLocal(pid: Pid, what: string): void {
    if (!(pid instanceof Pid) || pid.node !== this.node.name || pid.creation !== this.node.creation) throw new NoLocalError(pid, `pg ${what}`);
  }

  private subscribe(pid: Pid, group: string | null): Sub {
    const sub: Sub = { ref: this.node.makeRef(), pid, group };
    this.subs.set(sub.ref.key, sub);
    if (group === null) this.scopeSubs.add(sub);
    else {
      let s = this.byGroup.get(group);
      if (s === undefined) this.byGroup.set(group, (s = new Set()));
      s.add(sub);
    }
    return sub;
  }

  private unsubscribe(sub: Sub): void {
    this.subs.delete(sub.ref.key);
    if (sub.group === null) this.scopeSubs.delete(sub);
    else {
      const s = this.byGroup.get(sub.group);
      s?.delete(sub);
      if (s?.size === 0) this.byGroup.delete(sub.group);
    }
  }

  /** A local member ended: it leaves every group it joined. */
  private dropLocal(pid: Pid): void {
    const groups = this.local.get(pid.key);
    if (groups === undefined || !this.replica.alive) return;
    this.local.delete(pid.key);
    const engine = this.replica.engine;
    for (const ids of groups.values()) for (const id of ids) engine.remove(id);
    this.replica.touch();
  }

  /** Turns replica changes into join/leave events, grouped per group. */
  private onDiff(d: Diff<Pid>): void {
    if (this.waiters.size > 0) this.waiters.poke();
    if (this.subs.size === 0) return;
    this.dispatch('join', d.added);
    this.dispatch('leave', d.removed);
  }

  private dispatch(event: 'join' | 'leave', entries: Entry<Pid>[]): void {
    if (entries.length === 0) return;
    const per = new Map<string, Pid[]>();
    for (const e of entries) {
      const l = per.get(e.key);
      if (l === undefined) per.set(e.key, [e.value]);
      else l.push(e.value);
    }
    for (const [group, pids] of per) {
      const targets = [...this.scopeSubs, ...(this.byGroup.get(group) ?? [])];
      for (const sub of targets) {
        // Subscribers that died are dropped here (no monitor needed).
        if (!this.node.isAlive(sub.pid)) {
          this.unsubscribe(sub);
          continue;
        }
        this.node.send(sub.pid, { type: 'pg', ref: sub.ref, event, group, pids } satisfies PgEvent);
      }
    }
  }
}

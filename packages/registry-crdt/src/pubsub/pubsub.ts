import { inspect } from 'node:util';
import { BadArgError, Pid, isDownMessage, type Node, type Ref } from '@troupe/actor-core';
import { NoLocalError, UnavailableError } from '../errors.js';
import { MEMBERSHIP_SCOPE, type MembershipOptions } from '../membership/resolve.js';
import type { MemberInfo, MembersMode } from '../membership/types.js';
import { ProcessGroups } from '../pg/process-groups.js';
import { serviceKey } from '../sync/envelope.js';
import { replicaTiming, type ReplicaTiming } from '../sync/replica.js';

export interface PubSubOptions extends MembershipOptions, ReplicaTiming {
  /** Nodes sharing the name (and partition) form one PubSub. */
  name: string;
}

/** A broadcast forwarded to another node's PubSub server (one per node per broadcast). */
interface Forward {
  $ps: string;
  topic: string;
  msg: unknown;
}

function isForward(m: unknown): m is Forward {
  return typeof m === 'object' && m !== null && typeof (m as Forward).$ps === 'string' && typeof (m as Forward).topic === 'string';
}

type Watch = { $psw: Pid };

/**
 * Topic publish/subscribe across nodes (Phoenix.PubSub with its PG
 * adapter): subscriptions are local (a table on each node); each node's
 * PubSub server joins a process group, and `broadcast` sends one message
 * per remote member node, which that node's server fans out locally. No
 * topic-interest filtering, no redelivery (fire-and-forget, as Phoenix).
 */
export class PubSub {
  readonly name: string;
  readonly mode: MembersMode;
  readonly partition: string | undefined;
  readonly key: string;
  private pg: ProcessGroups | null = null;
  private server: Pid | null = null;
  private running = false;
  /** topic -> subscriber key -> (pid, subscription count) */
  private readonly topics = new Map<string, Map<string, { pid: Pid; n: number }>>();
  /** subscriber key -> topics (to clean up when it dies) */
  private readonly bySub = new Map<string, Set<string>>();
  private readonly monitors = new Map<string, Ref>();

  [inspect.custom](): string {
    return `PubSub<${this.name} on ${this.node.name}, ${this.topics.size} topics>`;
  }

  private constructor(
    readonly node: Node,
    opts: PubSubOptions,
  ) {
    this.name = opts.name;
    this.mode = opts.members ?? 'participation';
    this.partition = opts.partition;
    this.key = serviceKey('pubsub', opts.name, opts.partition);
  }

  static async start(node: Node, opts: PubSubOptions): Promise<PubSub> {
    if (typeof opts?.name !== 'string' || opts.name.length === 0) throw new BadArgError('PubSub.start: name must be a non-empty string');
    const mode = opts.members ?? 'participation';
    if (opts.partition !== undefined && mode !== 'participation') throw new BadArgError(`pubsub ${opts.name}: partition needs members: 'participation'`);
    const ps = new PubSub(node, opts);
    if (mode === 'participation') {
      const timing = replicaTiming(opts);
      ps.pg = await ProcessGroups.ensure(node, opts.membershipScope ?? MEMBERSHIP_SCOPE, timing);
      await ps.pg.whenReady();
    }
    ps.server = node.spawn<unknown>(
      {
        name: 'troupe.pubsub',
        init: (ctx) => {
          ctx.signal.addEventListener('abort', () => (ps.running = false), { once: true });
          return undefined;
        },
        handle: (m, ctx) => {
          if (isForward(m)) {
            if (m.$ps === ps.key) ps.localBroadcast(m.topic, m.msg);
            return;
          }
          if (typeof m === 'object' && m !== null && (m as Watch).$psw instanceof Pid) {
            const pid = (m as Watch).$psw;
            if (!ps.monitors.has(pid.key) && ps.bySub.has(pid.key)) ps.monitors.set(pid.key, ctx.monitor(pid));
            return;
          }
          if (isDownMessage(m) && m.object instanceof Pid) {
            ps.monitors.delete(m.object.key);
            ps.dropSubscriber(m.object);
          }
        },
      },
      { name: `troupe.pubsub:${ps.key}` },
    );
    ps.running = true;
    ps.pg?.join(ps.key, ps.server);
    return ps;
  }

  /** Subscribes local `pid` to `topic` (subscribing twice delivers twice, as Phoenix). */
  subscribe(pid: Pid, topic: string): void {
    this.check();
    if (!(pid instanceof Pid) || pid.node !== this.node.name) throw new NoLocalError(pid, 'pubsub subscribe');
    let subs = this.topics.get(topic);
    if (subs === undefined) this.topics.set(topic, (subs = new Map()));
    const s = subs.get(pid.key);
    if (s !== undefined) s.n++;
    else subs.set(pid.key, { pid, n: 1 });
    let ts = this.bySub.get(pid.key);
    if (ts === undefined) {
      this.bySub.set(pid.key, (ts = new Set()));
      this.node.send(this.server!, { $psw: pid } satisfies Watch);
    }
    ts.add(topic);
  }

  /** Drops every subscription of `pid` to `topic`; false if it had none. */
  unsubscribe(pid: Pid, topic: string): boolean {
    const subs = this.topics.get(topic);
    if (subs === undefined || !subs.delete(pid.key)) return false;
    if (subs.size === 0) this.topics.delete(topic);
    const ts = this.bySub.get(pid.key);
    ts?.delete(topic);
    if (ts?.size === 0) this.bySub.delete(pid.key);
    return true;
  }

  /** Local subscribers of `topic`. */
  subscribers(topic: string): Pid[] {
    const subs = this.topics.get(topic);
    return subs === undefined ? [] : [...subs.values()].map((s) => s.pid);
  }

  /** Delivers `msg` to every subscriber of `topic` on every member node: one network message per remote node. */
  /** Topics with subscribers on this node, and how many (introspection). */
  localTopics(): { topic: string; subscribers: number }[] {
    return [...this.topics].map(([topic, subs]) => ({ topic, subscribers: subs.size }));
  }

  broadcast(topic: string, msg: unknown): void {
    this.check();
    const fwd: Forward = { $ps: this.key, topic, msg };
    for (const target of this.remoteTargets()) this.node.send(target, fwd);
    this.localBroadcast(topic, msg);
  }

  /** Delivers `msg` to the subscribers on this node only; returns how many deliveries were made. */
  localBroadcast(topic: string, msg: unknown): number {
    const subs = this.topics.get(topic);
    if (subs === undefined) return 0;
    let n = 0;
    for (const s of subs.values()) {
      for (let i = 0; i < s.n; i++) this.node.send(s.pid, msg);
      n += s.n;
    }
    return n;
  }

  /**
   * Resolves to `members()` once this PubSub runs on at least `count` nodes
   * (this one included; default 2): the awaitable form of polling `members`.
   * `WaitTimeoutError` after `timeoutMs` (default 5000). Participation mode only.
   */
  async whenMembers(opts: { count?: number; timeoutMs?: number } = {}): Promise<MemberInfo[]> {
    if (this.pg === null) throw new BadArgError(`PubSub ${this.name}: whenMembers needs participation membership (members: 'auto' lists connected nodes)`);
    const others = (opts.count ?? 2) - 1;
    if (others > 0) {
      // The group holds each node's PubSub server, this one's included.
      const own = this.pg.members(this.key).some((p) => p.node === this.node.name) ? 1 : 0;
      await this.pg.whenMembers(this.key, { count: others + own, ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
    }
    return this.members();
  }

  /** Nodes running this PubSub (participation) or visible nodes (auto), with status. */
  members(): MemberInfo[] {
    const out: MemberInfo[] = [{ node: this.node.name, status: this.running ? 'alive' : 'dead', self: true, server: this.server }];
    if (this.pg === null) {
      for (const n of this.node.dist.nodes()) out.push({ node: n, status: 'uninitialized', self: false, server: null });
      return out;
    }
    for (const p of this.pg.members(this.key)) if (p.node !== this.node.name) out.push({ node: p.node, status: 'alive', self: false, server: p });
    return out;
  }

  get isRunning(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    if (this.pg?.running === true) this.pg.leave(this.key, this.server!);
    this.node.exit(this.server!, 'shutdown');
    this.running = false;
    this.topics.clear();
    this.bySub.clear();
  }

  private *remoteTargets(): Iterable<Pid | { name: string; node: string }> {
    if (this.pg === null) {
      for (const n of this.node.dist.nodes()) yield { name: `troupe.pubsub:${this.key}`, node: n };
      return;
    }
    const seen = new Set<string>([this.node.name]);
    for (const p of this.pg.members(this.key)) {
      if (seen.has(p.node)) continue; // one message per node
      seen.add(p.node);
      yield p;
    }
  }

  private dropSubscriber(pid: Pid): void {
    const ts = this.bySub.get(pid.key);
    if (ts === undefined) return;
    this.bySub.delete(pid.key);
    for (const t of ts) {
      const subs = this.topics.get(t);
      subs?.delete(pid.key);
      if (subs?.size === 0) this.topics.delete(t);
    }
  }

  private check(): void {
    if (!this.running) throw new UnavailableError(`pubsub ${this.name}`, this.node.name);
  }
}

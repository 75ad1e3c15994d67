import { inspect } from 'node:util';
import { EventEmitter } from 'eventemitter3';
import { randomInt } from 'node:crypto';
import { Pid, Ref } from './pid.js';
import { Proc, Status, type Monitor } from './internal/process.js';
import { Scheduler, type SchedulerStats } from './internal/scheduler.js';
import { Calls, CastEnvelope, type CallEnvelope, type From } from './internal/calls.js';
import { Timers } from './internal/timers.js';
import { Distribution } from './distribution/distribution.js';
import { isValidNodeName, MAX_NODE_NAME_LENGTH } from './node-name.js';
import { BadArgError } from './errors.js';
import { type ExitReason, formatReason, isNormalExit } from './exit-reason.js';
import { consoleLogger, type Logger } from './logger.js';
import type {
  Behaviour,
  DemonitorOptions,
  Dest,
  DownMessage,
  ExitMessage,
  ProcessBody,
  RemoteName,
  SpawnOptions,
  ViaName,
} from './types.js';

export interface NodeOptions {
  /** The node's name, e.g. `app@host`. Default: `nonode@nohost`. */
  name?: string;
  /** The incarnation; default: random, different on every start. */
  creation?: number;
  /** Where crash reports and warnings go. Default: JSON lines on stderr at `info`. */
  logger?: Logger;
  /** Messages a process handles per scheduler visit (default 300). */
  throughput?: number;
  /** ms of continuous work before the scheduler yields to the event loop (default 5). */
  sliceMs?: number;
}

/** What `processInfo` reports about one process. */
export interface ProcessInfo {
  pid: Pid;
  status: 'starting' | 'runnable' | 'waiting' | 'suspended' | 'exited';
  /** Messages waiting in the mailbox. */
  mailbox: number;
  /** Messages taken out of the mailbox so far. */
  handled: number;
  links: Pid[];
  /** Processes (or names) this process monitors. */
  monitors: (Pid | RemoteName)[];
  /** Processes monitoring this one. */
  monitoredBy: Pid[];
  name: string | null;
  behaviour: string | null;
  trapExit: boolean;
}

export interface NodeEvents {
  spawn: (e: { pid: Pid; behaviour: string | null }) => void;
  exit: (e: { pid: Pid; reason: ExitReason }) => void;
  /** An exit whose reason is not `normal`, `shutdown`, `{shutdown}` (those are quiet). */
  crash: (e: { pid: Pid; reason: ExitReason; behaviour: string | null }) => void;
  /** A supervisor is about to restart a child that exited with `reason` (`child`: its id; null for a DynamicSupervisor's). */
  restart: (e: { supervisor: Pid; child: string | null; pid: Pid; reason: ExitReason }) => void;
}

const enum SignalKind {
  Exit,
  Link,
  Down,
}

/** The pseudo-pid that signals sent from outside any process come from. */
const EXTERNAL_ID = 0;

/**
 * One runtime instance: its processes, scheduler, names, timers and
 * distribution state. Usually one per OS process; several can share one
 * (tests, the in-memory transport).
 */
export class Node {
  readonly name: string;
  readonly creation: number;
  readonly logger: Logger;
  readonly events = new EventEmitter<NodeEvents>();
  readonly throughput: number;
  /** Stands for "no process" (code outside any process) as a sender. */
  readonly external: Pid;
  /** @internal */ readonly sched: Scheduler;
  /** @internal */ readonly calls: Calls;
  /** @internal */ readonly timers: Timers;
  /** Distribution: transports plug in here; remote spawn (`expose`, `spawnRemote`) and `monitorNodes`. */
  readonly dist: Distribution;
  private readonly procs = new Map<number, Proc>();
  private readonly names = new Map<string, Proc>();
  private seq = 0;
  /**
   * Exit signals and DOWNs between local processes, in the order they were
   * sent: long link chains never recurse, and a dying process's EXITs reach
   * a process that both links and monitors it before its DOWN (OTP's order).
   * Each entry: sender, receiver, reason (or the DOWN message), kind.
   */
  private readonly signalQueue: [Pid, Proc, unknown, SignalKind][] = [];
  private draining = false;

  constructor(opts: NodeOptions = {}) {
    const name = opts.name ?? 'nonode@nohost';
    if (!isValidNodeName(name)) {
      throw new BadArgError(`invalid node name ${JSON.stringify(name)}: NAME@HOST of letters, digits, '_', '.', '-' (HOST may be [IPv6]), at most ${MAX_NODE_NAME_LENGTH} chars`);
    }
    this.name = name;
    this.creation = opts.creation ?? randomInt(1, 2 ** 31 - 1);
    this.logger = opts.logger ?? consoleLogger('info');
    this.throughput = opts.throughput ?? 300;
    this.sched = new Scheduler({ throughput: this.throughput, sliceMs: opts.sliceMs ?? 5 });
    this.calls = new Calls(this);
    this.timers = new Timers(this);
    this.dist = new Distribution(this);
    this.external = new Pid(name, EXTERNAL_ID, this.creation);
  }

  /** @internal A node-unique positive integer (process ids, refs, call tags). */
  nextId(): number {
    return ++this.seq;
  }

  makeRef(): Ref {
    return new Ref(this.name, ++this.seq, this.creation);
  }

  // ---- spawning -----------------------------------------------------------

  /**
   * Starts a process. A function is *process style* (an async body using
   * `ctx.receive`); an object with `handle` is *behaviour style* (the fast path).
   * Returns at once: the process runs on the scheduler's next turn.
   */
  spawn<M = unknown, S = undefined>(body: ProcessBody<M> | Behaviour<M, S>, opts?: SpawnOptions): Pid {
    return this.spawnFrom(null, body as ProcessBody<unknown> | Behaviour<unknown, unknown>, opts, false);
  }

  /** @internal */
  spawnFrom(parent: Proc | null, body: ProcessBody<unknown> | Behaviour<unknown, unknown>, opts: SpawnOptions | undefined, link: boolean): Pid {
    let beh: Behaviour<unknown, unknown> | null = null;
    let fn: ProcessBody<unknown> | null = null;
    if (typeof body === 'function') fn = body;
    else if (body !== null && typeof body === 'object' && typeof body.handle === 'function') beh = body;
    else throw new BadArgError('spawn needs an async function (process style) or a behaviour with handle(msg, ctx)');
    if (parent !== null && parent.status === Status.Dead) {
      // Spawned by a process that has exited: nothing starts (its code should not be running).
      return new Pid(this.name, ++this.seq, this.creation);
    }
    if (opts?.name !== undefined) this.checkNameFree(opts.name);
    const pid = new Pid(this.name, ++this.seq, this.creation);
    const p = new Proc(this, pid, beh, fn, opts);
    pid.p = p;
    this.procs.set(pid.id, p);
    if (parent !== null) {
      p.parent = parent.self;
      if (link) {
        (p.links = new Map()).set(parent.self.key, parent.self);
        (parent.links ??= new Map()).set(pid.key, pid);
      }
    }
    if (opts?.name !== undefined) {
      p.name = opts.name;
      this.names.set(opts.name, p);
    }
    if (this.events.listenerCount('spawn') > 0) this.events.emit('spawn', { pid, behaviour: p.label });
    this.sched.enqueue(p);
    return pid;
  }

  // ---- lookup -------------------------------------------------------------

  /** @internal The live local process of `pid`, or null. */
  lookup(pid: Pid): Proc | null {
    const cached = pid.p;
    // The cache belongs to one node: several nodes in one process can share a Pid object.
    if (cached !== null && cached.node === this) return cached;
    if (pid.node !== this.name || pid.creation !== this.creation) return null;
    return this.procs.get(pid.id) ?? null;
  }

  /** @internal The live local process with this id, if `creation` is this node's; else null. */
  lookupLocal(id: number, creation: number): Proc | null {
    return creation === this.creation ? (this.procs.get(id) ?? null) : null;
  }

  /** @internal A destination as a pid (undefined: no such name). Throws on a malformed destination. */
  resolve(dest: Dest): Pid | undefined {
    if (dest instanceof Pid) return dest;
    if (typeof dest === 'string') return this.names.get(dest)?.self;
    if (typeof dest === 'object' && dest !== null) {
      if ('via' in dest) return (dest as ViaName).via.whereisName((dest as ViaName).name);
      const rn = dest as RemoteName;
      if (typeof rn.name === 'string' && typeof rn.node === 'string') {
        if (rn.node === this.name) return this.names.get(rn.name)?.self;
        return this.dist.outgoing.whereisRemote(rn);
      }
    }
    throw new BadArgError(`not a destination: ${formatReason(dest)} (expected a pid, a name, { name, node } or { via, name })`);
  }

  isAlive(pid: Pid): boolean {
    return this.lookup(pid) !== null;
  }

  // ---- messages -----------------------------------------------------------

  /**
   * Sends `msg` to a pid or name. Messages are passed by reference: treat a
   * message as immutable once sent. Sending to a dead pid does nothing; to an
   * unregistered local name throws (Erlang's `badarg`); to `{ name, node }` on
   * another node never throws.
   */
  send(dest: Dest, msg: unknown): void {
    if (dest instanceof Pid) {
      const p = dest.p;
      if (p !== null && p.node === this) {
        p.deliver(msg);
        return;
      }
      if (dest.node === this.name) {
        if (dest.creation === this.creation) this.procs.get(dest.id)?.deliver(msg);
        return;
      }
      this.dist.outgoing.send(dest, msg);
      return;
    }
    if (typeof dest === 'string') {
      const p = this.names.get(dest);
      if (p === undefined) throw new BadArgError(`no process registered as '${dest}'`);
      p.deliver(msg);
      return;
    }
    if (typeof dest === 'object' && dest !== null) {
      if ('via' in dest) {
        (dest as ViaName).via.send((dest as ViaName).name, msg);
        return;
      }
      const rn = dest as RemoteName;
      if (typeof rn.name === 'string' && typeof rn.node === 'string') {
        // `{Name, Node} ! Msg` never raises, even for the own node (OTP: no badarg, the message is dropped).
        if (rn.node === this.name) return void this.names.get(rn.name)?.deliver(msg);
        this.dist.outgoing.sendName(rn, msg);
        return;
      }
    }
    throw new BadArgError(`not a destination: ${formatReason(dest)}`);
  }

  /** A request with a reply, from code outside any process. See `GenServer.call`. */
  call<R = unknown>(server: Dest, request: unknown, timeoutMs?: number): Promise<R> {
    return this.calls.call(null, server, request, timeoutMs) as Promise<R>;
  }

  /** Fire-and-forget request; never fails, even for a dead or unknown server. */
  cast(server: Dest, request: unknown): void {
    const env = new CastEnvelope(request);
    try {
      this.send(server, env);
    } catch {
      // cast always succeeds (OTP): an unknown name is not the caster's problem
    }
  }

  /** Answers a call: `from` is what the server's handler received. Works from any process, once. */
  reply(from: From, value: unknown): void {
    if (from.node === this.name) this.calls.settle(from.tag, value);
    else this.dist.outgoing.reply(from, value);
  }

  // ---- exit signals -------------------------------------------------------

  /**
   * Sends an exit signal to `pid` (Erlang's `exit/2`), from outside any
   * process. `'kill'` cannot be trapped; `'normal'` is ignored by a process
   * that does not trap exits.
   */
  exit(pid: Pid, reason: ExitReason): void {
    this.exitSignal(this.external, pid, reason, false);
  }

  /** @internal Sends an exit signal; `link` marks one caused by a linked process's death. */
  exitSignal(from: Pid, to: Pid, reason: ExitReason, link: boolean): void {
    if (!(to instanceof Pid)) throw new BadArgError(`exit: not a pid: ${formatReason(to)}`);
    const p = this.lookup(to);
    if (p !== null) {
      this.signalQueue.push([from, p, reason, link ? SignalKind.Link : SignalKind.Exit]);
      this.drainSignals();
    } else if (to.node !== this.name) {
      this.dist.outgoing.exit(from, to, reason, link);
    }
  }

  private drainSignals(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      const q = this.signalQueue;
      for (let i = 0; i < q.length; i++) {
        const s = q[i]!;
        if (s[3] === SignalKind.Down) s[1].deliver(s[2]);
        else this.receiveExit(s[0], s[1], s[2], s[3] === SignalKind.Link);
      }
      q.length = 0;
    } finally {
      this.draining = false;
    }
  }

  /** @internal How a process takes an exit signal (OTP's rules, first match wins). */
  receiveExit(from: Pid, p: Proc, reason: ExitReason, link: boolean): void {
    if (p.status === Status.Dead) return;
    if (link) {
      // A link signal for a link that was removed is dropped; otherwise the link is gone now.
      if (p.links === null || !p.links.delete(from.key)) return;
    }
    if (!link && reason === 'kill') return this.terminate(p, 'killed');
    if (p.trappingExits) {
      p.deliver({ type: 'EXIT', from, reason } satisfies ExitMessage);
      return;
    }
    if (reason === 'normal') {
      if (from.equals(p.self)) this.terminate(p, 'normal');
      return;
    }
    this.terminate(p, reason);
  }

  // ---- links ---------------------------------------------------------------

  /** @internal */
  link(p: Proc, pid: Pid): void {
    if (!(pid instanceof Pid)) throw new BadArgError(`link: not a pid: ${formatReason(pid)}`);
    if (pid.equals(p.self) || p.status === Status.Dead) return;
    if (p.links?.has(pid.key)) return;
    if (pid.node !== this.name) {
      (p.links ??= new Map()).set(pid.key, pid);
      this.dist.outgoing.link(p, pid);
      return;
    }
    const other = this.lookup(pid);
    if (other === null) {
      // Linking to a dead process: a `noproc` exit signal (kills a non-trapping caller).
      this.signalQueue.push([pid, p, 'noproc', SignalKind.Exit]);
      this.drainSignals();
      return;
    }
    (p.links ??= new Map()).set(pid.key, pid);
    (other.links ??= new Map()).set(p.self.key, p.self);
  }

  /** @internal */
  unlink(p: Proc, pid: Pid): void {
    if (!(pid instanceof Pid)) throw new BadArgError(`unlink: not a pid: ${formatReason(pid)}`);
    if (p.links === null || !p.links.delete(pid.key)) return;
    if (pid.node !== this.name) {
      this.dist.outgoing.unlink(p.self, pid);
      return;
    }
    this.lookup(pid)?.links?.delete(p.self.key);
  }

  // ---- monitors --------------------------------------------------------------

  /** @internal */
  monitor(p: Proc, target: Pid | string | RemoteName): Ref {
    const ref = this.makeRef();
    if (p.status === Status.Dead) return ref; // nobody would ever take the DOWN
    let pid: Pid | undefined;
    let object: Pid | RemoteName;
    if (target instanceof Pid) {
      pid = target;
      object = target;
    } else if (typeof target === 'string') {
      object = { name: target, node: this.name };
      pid = this.names.get(target)?.self;
    } else if (typeof target === 'object' && target !== null && typeof target.name === 'string' && typeof target.node === 'string') {
      object = { name: target.name, node: target.node };
      if (target.node !== this.name) {
        this.dist.outgoing.monitorName(p, object, ref);
        return ref;
      }
      pid = this.names.get(target.name)?.self;
    } else {
      throw new BadArgError(`monitor: not a pid or name: ${formatReason(target)}`);
    }
    // Monitoring oneself creates no monitor (OTP: a ref comes back, nothing else).
    if (pid !== undefined && pid.equals(p.self)) return ref;
    if (pid !== undefined && pid.node !== this.name) {
      this.dist.outgoing.monitor(p, pid, ref);
      return ref;
    }
    const other = pid === undefined ? null : this.lookup(pid);
    if (other === null) {
      p.deliver({ type: 'DOWN', ref, object, reason: 'noproc' } satisfies DownMessage);
      return ref;
    }
    const m: Monitor = { ref, owner: p.self, target: other.self, object };
    (p.monitors ??= new Map()).set(ref.key, m);
    (other.monitoredBy ??= new Map()).set(ref.key, m);
    return ref;
  }

  /** @internal */
  demonitor(p: Proc, ref: Ref, opts?: DemonitorOptions): boolean {
    if (!(ref instanceof Ref)) throw new BadArgError(`demonitor: not a ref: ${formatReason(ref)}`);
    if (ref.node !== this.name) throw new BadArgError(`demonitor: ${ref.toString()} was made on another node`);
    const m = p.monitors?.get(ref.key);
    let removed = false;
    if (m !== undefined) {
      p.monitors!.delete(ref.key);
      removed = true;
      if (m.target.node === this.name) this.lookup(m.target)?.monitoredBy?.delete(ref.key);
      else this.dist.outgoing.demonitor(p.self, m.target, ref);
    }
    if (opts?.flush) p.flushDown(ref);
    return opts?.info ? removed : true;
  }

  // ---- names ---------------------------------------------------------------

  private checkNameFree(name: string): void {
    if (typeof name !== 'string' || name.length === 0) throw new BadArgError(`register: a name must be a non-empty string, got ${formatReason(name)}`);
    const holder = this.names.get(name);
    if (holder !== undefined) throw new BadArgError(`register: '${name}' is already registered to ${holder.self.toString()}`);
  }

  /** Registers a local name for a live local process. Throws if the name is taken or the process already has one. */
  register(name: string, pid: Pid): void {
    this.checkNameFree(name);
    if (!(pid instanceof Pid)) throw new BadArgError(`register: not a pid: ${formatReason(pid)}`);
    const p = this.lookup(pid);
    if (p === null) throw new BadArgError(`register: ${pid.toString()} is not a live local process`);
    if (p.name !== null) throw new BadArgError(`register: ${pid.toString()} is already registered as '${p.name}'`);
    p.name = name;
    this.names.set(name, p);
  }

  /** Removes a local name; throws if it is not registered. */
  unregister(name: string): void {
    const p = this.names.get(name);
    if (p === undefined) throw new BadArgError(`unregister: '${String(name)}' is not registered`);
    this.names.delete(name);
    p.name = null;
  }

  whereis(name: string): Pid | undefined {
    return this.names.get(name)?.self;
  }

  registered(): string[] {
    return [...this.names.keys()];
  }

  // ---- timers ----------------------------------------------------------------

  /** Sends `msg` to `dest` after `ms` (a name is resolved when the timer fires). Discarded if the target pid dies. */
  sendAfter(ms: number, dest: Dest, msg: unknown): Ref {
    return this.timers.start(ms, dest, msg, false);
  }

  /** Like `sendAfter`, but delivers `{ type: 'timeout', ref, msg }`. */
  startTimer(ms: number, dest: Dest, msg: unknown): Ref {
    return this.timers.start(ms, dest, msg, true);
  }

  /** Remaining ms if the timer was pending (it will not fire); false if it fired or was cancelled. */
  cancelTimer(ref: Ref): number | false {
    return this.timers.cancel(ref);
  }

  readTimer(ref: Ref): number | false {
    return this.timers.read(ref);
  }

  // ---- termination -------------------------------------------------------------

  /**
   * @internal Ends a process with `reason`: frees its name first (so a DOWN
   * receiver can re-register it), then signals links, monitors and callers.
   */
  terminate(p: Proc, reason: ExitReason): void {
    if (p.status === Status.Dead) return;
    p.status = Status.Dead;
    p.exitReason = reason;
    const self = p.self;
    this.procs.delete(self.id);
    self.p = null;
    if (p.name !== null) {
      this.names.delete(p.name);
      p.name = null;
    }
    if (p.timers !== null) this.timers.ownerExited(p);
    if (p.waiter !== null) {
      if (p.waiter.timer !== null) clearTimeout(p.waiter.timer);
      p.waiter = null;
    }
    p.hitResolve = null;
    p.mbox = null;
    if (p.abort !== null) p.abort.abort(reason);
    const onExit = p.onExit;
    if (onExit !== null) {
      p.onExit = null;
      this.guard(() => onExit(reason));
    }
    if (p.callers > 0) this.calls.serverExited(p, reason);
    if (p.remoteCallers > 0) this.dist.outgoing.callServerExited(p, reason);
    if (p.monitors !== null) {
      for (const m of p.monitors.values()) {
        if (m.target.node === this.name) this.lookup(m.target)?.monitoredBy?.delete(m.ref.key);
        else this.dist.outgoing.demonitor(self, m.target, m.ref);
      }
      p.monitors = null;
    }
    if (p.links !== null) {
      const links = p.links;
      p.links = null;
      for (const pid of links.values()) {
        if (pid.node === this.name) {
          const other = this.lookup(pid);
          if (other !== null) this.signalQueue.push([self, other, reason, SignalKind.Link]);
        } else {
          this.dist.outgoing.exit(self, pid, reason, true);
        }
      }
    }
    if (p.monitoredBy !== null) {
      const mons = p.monitoredBy;
      p.monitoredBy = null;
      for (const m of mons.values()) {
        const down: DownMessage = { type: 'DOWN', ref: m.ref, object: m.object, reason };
        if (m.owner.node === this.name) {
          const owner = this.lookup(m.owner);
          if (owner !== null) {
            owner.monitors?.delete(m.ref.key);
            this.signalQueue.push([self, owner, down, SignalKind.Down]);
          }
        } else {
          this.dist.outgoing.down(m.owner, down);
        }
      }
    }
    this.dist.outgoing.forget(p);
    // A throwing listener or logger must not abort the termination, the signal drain or the scheduler: a crash stays inside its process.
    if (this.events.listenerCount('exit') > 0) this.guard(() => this.events.emit('exit', { pid: self, reason }));
    if (!isNormalExit(reason)) {
      if (this.events.listenerCount('crash') > 0) this.guard(() => this.events.emit('crash', { pid: self, reason, behaviour: p.label }));
      if (reason !== 'killed' && reason !== 'kill' && reason !== 'noconnection') {
        this.guard(() => this.logger.error('process crashed', { pid: self.toString(), behaviour: p.label, reason: crashData(reason) }));
      }
    }
    this.drainSignals();
  }

  /** Runs observer code (event listeners, the logger); what it throws is reported, never propagated. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      try {
        this.logger.warn('an exit listener or the logger threw', { error: formatReason(e instanceof Error ? `${e.name}: ${e.message}` : e) });
      } catch {
        // the logger itself is broken: nothing more to do
      }
    }
  }

  /** Ends every process with `shutdown` and drops timers (for tests and process exit). */
  shutdown(): void {
    for (const p of [...this.procs.values()]) this.terminate(p, 'shutdown');
    this.timers.clear();
    this.dist.detach();
  }

  // ---- observability ------------------------------------------------------------

  /** Every live process. */
  processes(): Pid[] {
    return [...this.procs.values()].map((p) => p.self);
  }

  get processCount(): number {
    return this.procs.size;
  }

  /** Resolves once `nodeName` is connected; `WaitTimeoutError` after `timeoutMs` (default 5000). See `dist.whenConnected`. */
  whenConnected(nodeName: string, opts?: { timeoutMs?: number }): Promise<void> {
    return this.dist.whenConnected(nodeName, opts);
  }

  /** `console.log(node)`: its name and size, not its process table. */
  [inspect.custom](): string {
    return `Node<${this.name} creation=${this.creation} processes=${this.procs.size}>`;
  }

  processInfo(pid: Pid): ProcessInfo | undefined {
    const p = this.lookup(pid);
    if (p === null) return undefined;
    let status: ProcessInfo['status'];
    switch (p.status) {
      case Status.Starting:
        status = 'starting';
        break;
      case Status.Idle:
        status = p.mbox !== null && p.mbox.length > 0 ? 'runnable' : 'waiting';
        break;
      case Status.Suspended:
        status = p.beh === null && p.waiter !== null ? 'waiting' : 'suspended';
        break;
      default:
        status = 'exited';
    }
    return {
      pid: p.self,
      status,
      mailbox: p.mbox?.length ?? 0,
      handled: p.handled,
      links: p.links === null ? [] : [...p.links.values()],
      monitors: p.monitors === null ? [] : [...p.monitors.values()].map((m) => m.object),
      monitoredBy: p.monitoredBy === null ? [] : [...p.monitoredBy.values()].map((m) => m.owner),
      name: p.name,
      behaviour: p.label,
      trapExit: p.trappingExits,
    };
  }

  /** The queued messages of a process, oldest first (Erlang's `process_info(Pid, messages)`); [] if it is not alive. */
  mailboxOf(pid: Pid): unknown[] {
    return this.lookup(pid)?.mbox?.toArray() ?? [];
  }

  /** Scheduler counters and, if `monitorLag()` was called, event-loop delay. */
  stats(): SchedulerStats & { processes: number; timers: number; pendingCalls: number } {
    return { ...this.sched.stats(), processes: this.procs.size, timers: this.timers.size, pendingCalls: this.calls.pending.size };
  }

  /** Starts sampling event-loop delay every `resolutionMs` (default 200), reported by `stats().lag` as lateness beyond that interval. */
  monitorLag(resolutionMs?: number): void {
    this.sched.monitorLag(resolutionMs);
  }
}

function crashData(reason: ExitReason): unknown {
  if (typeof reason === 'object' && reason !== null && 'error' in reason) return reason;
  return formatReason(reason);
}

export type { From, CallEnvelope, CastEnvelope };

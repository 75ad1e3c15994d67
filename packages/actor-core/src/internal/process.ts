import { Pid, Ref } from '../pid.js';
import { Queue } from './queue.js';
import { ExitException, type ExitReason, reasonFromThrown } from '../exit-reason.js';
import type {
  Behaviour,
  Dest,
  DemonitorOptions,
  DownMessage,
  ProcessBody,
  ProcessContext,
  ReceiveOptions,
  RemoteName,
  SpawnOptions,
  Timeout,
} from '../types.js';
import { TIMEOUT } from '../types.js';
import { BadArgError } from '../errors.js';
import type { Node } from '../node.js';
import type { TimerEntry } from './timers.js';
import type { ProcHook } from '../sys/trace.js';

/** Mailbox length beyond which a process is flooded and gets a larger budget per visit. */
const BACKLOG = 10_000;

export const enum Status {
  /** Spawned; `init` (or the body) has not run yet. */
  Starting = 0,
  /** Waiting for messages; runnable when its mailbox is not empty. */
  Idle = 1,
  /** Awaiting a promise (async handler, async init, process-style body). */
  Suspended = 2,
  Dead = 3,
}

/** A monitor, shared by its owner's and its target's tables when both are local. */
export interface Monitor {
  ref: Ref;
  owner: Pid;
  target: Pid;
  object: Pid | RemoteName;
}

/** What a receive of a dead process returns: it never settles, so the body never runs again. */
const PARKED: Promise<never> = new Promise<never>(() => {});

interface Waiter {
  match: ((m: unknown) => boolean) | undefined;
  resolve: (m: unknown) => void;
  timer: ReturnType<typeof setTimeout> | null;
  /** Mailbox items the filter has already refused: a later scan starts after them. */
  scanned: number;
}

/**
 * The runtime's one process class. Every process has this shape (the
 * scheduler's loads stay monomorphic); only `beh.handle` differs.
 * It is also the `ProcessContext` handed to user code.
 */
export class Proc implements ProcessContext<unknown, unknown> {
  readonly node: Node;
  readonly self: Pid;
  state: unknown = undefined;
  status: Status = Status.Starting;
  queued = false;
  trappingExits = false;
  /** Behaviour style: the behaviour; process style: null (see `body`). */
  beh: Behaviour<unknown, unknown> | null;
  body: ProcessBody<unknown> | null;
  mbox: Queue<unknown> | null = null;
  throughput: number;
  handled = 0;
  name: string | null = null;
  label: string | null;
  parent: Pid | null = null;
  links: Map<string, Pid> | null = null;
  monitors: Map<string, Monitor> | null = null;
  monitoredBy: Map<string, Monitor> | null = null;
  /** Calls waiting on this process as their server (their slots are in `node.calls`). */
  callers = 0;
  /** Calls from other nodes waiting on this process (their monitors are in `node.dist`). */
  remoteCallers = 0;
  timers: Set<TimerEntry> | null = null;
  waiter: Waiter | null = null;
  /** A message a waiting `receive` matched, handed over on the next run. */
  hit: unknown = undefined;
  hitResolve: ((m: unknown) => void) | null = null;
  abort: AbortController | null = null;
  /** Internal: told the exit reason when the process ends (a starter awaiting `init`); cheaper than an AbortSignal. */
  onExit: ((reason: ExitReason) => void) | null = null;
  exitReason: ExitReason = undefined;
  /** Set only while the process is traced or counted (sys/): the message path checks this one field. */
  hook: ProcHook | null = null;

  constructor(node: Node, pid: Pid, beh: Behaviour<unknown, unknown> | null, body: ProcessBody<unknown> | null, opts: SpawnOptions | undefined) {
    this.node = node;
    this.self = pid;
    this.beh = beh;
    this.body = body;
    this.throughput = opts?.throughput ?? node.throughput;
    this.label = opts?.label ?? beh?.name ?? null;
    if (opts?.trapExit) this.trappingExits = true;
  }

  get alive(): boolean {
    return this.status !== Status.Dead;
  }

  get signal(): AbortSignal {
    if (this.abort === null) {
      this.abort = new AbortController();
      if (this.status === Status.Dead) this.abort.abort(this.exitReason);
    }
    return this.abort.signal;
  }

  // ---- messaging -------------------------------------------------------

  // Every operation below is inert once the process has exited: OTP runs no
  // code after an exit, but Node cannot stop a synchronous handler midway or
  // an async body that resumes after its process died. Such code may still
  // run; nothing it does through its context reaches anything else.

  send(dest: Dest, msg: unknown): void {
    if (this.status === Status.Dead) return;
    if (this.hook !== null) this.hook.out(dest, msg);
    this.node.send(dest, msg);
  }

  /**
   * Puts a message in the mailbox and makes the process runnable. A waiting
   * receive without a filter takes it directly; a receive filter is never
   * run here, on the sender's stack: the receiver scans in its own turn.
   */
  deliver(msg: unknown): void {
    if (this.status === Status.Dead) return;
    if (this.hook !== null) this.hook.in(msg);
    const w = this.waiter;
    if (w !== null && w.match === undefined) {
      this.waiter = null;
      if (w.timer !== null) clearTimeout(w.timer);
      this.hit = msg;
      this.hitResolve = w.resolve;
      if (!this.queued) this.node.sched.enqueue(this);
      return;
    }
    (this.mbox ??= new Queue(4)).push(msg);
    if (!this.queued && (this.beh !== null ? this.status === Status.Idle : w !== null)) this.node.sched.enqueue(this);
  }

  receive(match?: (m: unknown) => boolean, opts?: ReceiveOptions): Promise<unknown> {
    if (this.beh !== null) {
      return Promise.reject(new TypeError('receive() is for process-style processes; a behaviour gets messages in handle()'));
    }
    if (this.status === Status.Dead) return PARKED; // an abandoned body never resumes
    if (this.waiter !== null) return Promise.reject(new TypeError('receive() called while another receive is pending'));
    const timeout = opts?.timeout;
    // Erlang: `after T` with a negative or non-number T is a `timeout_value` error, not a poll.
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0))) {
      return Promise.reject(new BadArgError(`receive: timeout must be a number of ms >= 0 or Infinity, got ${String(timeout)}`));
    }
    const mbox = this.mbox;
    let scanned = 0;
    if (mbox !== null && mbox.length > 0) {
      if (match === undefined) {
        this.handled++;
        return Promise.resolve(mbox.shift());
      }
      const i = mbox.findIndex(match);
      if (i >= 0) {
        this.handled++;
        return Promise.resolve(mbox.removeAt(i));
      }
      scanned = mbox.length;
    }
    if (timeout === 0) return Promise.resolve(TIMEOUT as Timeout);
    return new Promise((resolve) => {
      const w: Waiter = { match, resolve: (m) => { this.handled++; resolve(m); }, timer: null, scanned };
      if (timeout !== undefined && timeout !== Infinity) {
        // Monotonic time: a wall-clock step must not stretch or cut the wait.
        // setTimeout fires after 1 ms above 2^31-1 ms: chain timers up to the deadline.
        const due = performance.now() + timeout;
        const arm = (left: number): void => {
          w.timer = setTimeout(() => {
            if (this.waiter !== w) return;
            const rest = due - performance.now();
            if (rest > 0) return arm(rest);
            this.waiter = null;
            resolve(TIMEOUT);
          }, Math.min(Math.ceil(left), 2 ** 31 - 1));
        };
        arm(timeout);
      }
      this.waiter = w;
    });
  }

  /** A filtered receive is waiting and messages arrived: scan those it has not seen, in this process's own turn. */
  private scanForWaiter(w: Waiter): void {
    const mbox = this.mbox;
    if (mbox === null || w.match === undefined) return;
    const i = mbox.findIndex(w.match, w.scanned);
    if (i < 0) {
      w.scanned = mbox.length;
      return;
    }
    const m = mbox.removeAt(i);
    this.waiter = null;
    if (w.timer !== null) clearTimeout(w.timer);
    w.resolve(m);
  }

  /** Removes every queued message for which `drop` is true. */
  flush(drop: (m: unknown) => boolean): number {
    if (this.waiter !== null) this.waiter.scanned = 0; // positions move: rescan from the start
    return this.mbox === null ? 0 : this.mbox.removeAll(drop);
  }

  // ---- exits, links, monitors ------------------------------------------

  exit(pidOrReason: unknown, reason?: ExitReason): never {
    if (arguments.length >= 2) {
      if (this.status !== Status.Dead) this.node.exitSignal(this.self, pidOrReason as Pid, reason, false);
      return undefined as never;
    }
    throw new ExitException(pidOrReason);
  }

  link(pid: Pid): void {
    if (this.status !== Status.Dead) this.node.link(this, pid);
  }

  unlink(pid: Pid): void {
    if (this.status !== Status.Dead) this.node.unlink(this, pid);
  }

  monitor(target: Pid | string | RemoteName): Ref {
    return this.node.monitor(this, target); // a dead owner gets a ref and no monitor
  }

  demonitor(ref: Ref, opts?: DemonitorOptions): boolean {
    if (this.status === Status.Dead) return opts?.info !== true;
    return this.node.demonitor(this, ref, opts);
  }

  trapExit(on: boolean): boolean {
    const old = this.trappingExits;
    this.trappingExits = on;
    return old;
  }

  // ---- spawning ----------------------------------------------------------

  spawn<M2, S2>(body: ProcessBody<M2> | Behaviour<M2, S2>, opts?: SpawnOptions): Pid {
    return this.node.spawnFrom(this, body as ProcessBody<unknown> | Behaviour<unknown, unknown>, opts, false);
  }

  spawnLink<M2, S2>(body: ProcessBody<M2> | Behaviour<M2, S2>, opts?: SpawnOptions): Pid {
    return this.node.spawnFrom(this, body as ProcessBody<unknown> | Behaviour<unknown, unknown>, opts, true);
  }

  spawnMonitor<M2, S2>(body: ProcessBody<M2> | Behaviour<M2, S2>, opts?: SpawnOptions): [Pid, Ref] {
    const pid = this.node.spawnFrom(this, body as ProcessBody<unknown> | Behaviour<unknown, unknown>, opts, false);
    return [pid, this.node.monitor(this, pid)];
  }

  // ---- names, timers, calls ---------------------------------------------

  register(name: string): void {
    this.node.register(name, this.self);
  }

  unregister(name: string): void {
    if (this.status !== Status.Dead) this.node.unregister(name);
  }

  whereis(name: string): Pid | undefined {
    return this.node.whereis(name);
  }

  sendAfter(ms: number, dest: Dest, msg: unknown): Ref {
    return this.status === Status.Dead ? this.node.makeRef() : this.node.sendAfter(ms, dest, msg);
  }

  startTimer(ms: number, dest: Dest, msg: unknown): Ref {
    return this.status === Status.Dead ? this.node.makeRef() : this.node.startTimer(ms, dest, msg);
  }

  cancelTimer(ref: Ref): number | false {
    return this.status === Status.Dead ? false : this.node.cancelTimer(ref);
  }

  readTimer(ref: Ref): number | false {
    return this.node.readTimer(ref);
  }

  call<R = unknown>(server: Dest, request: unknown, timeoutMs?: number): Promise<R> {
    return this.node.calls.call(this, server, request, timeoutMs) as Promise<R>;
  }

  cast(server: Dest, request: unknown): void {
    if (this.status === Status.Dead) return;
    if (this.hook !== null) this.hook.out(server, { $gen: 'cast', req: request });
    this.node.cast(server, request);
  }

  // ---- running (called by the scheduler) ---------------------------------

  /** Runs up to `throughput` messages; returns true if the process should be queued again. */
  run(): boolean {
    const beh = this.beh;
    if (beh === null) {
      if (this.status === Status.Starting) this.startBody();
      const resolve = this.hitResolve;
      if (resolve !== null && this.status !== Status.Dead) {
        const m = this.hit;
        this.hit = undefined;
        this.hitResolve = null;
        resolve(m);
      } else if (this.waiter !== null) {
        this.scanForWaiter(this.waiter);
      }
      return false;
    }
    if (this.status === Status.Starting) {
      if (beh.init !== undefined && !this.runInit(beh)) return false;
      this.status = Status.Idle;
    }
    if (this.status !== Status.Idle) return false;
    const mbox = this.mbox;
    if (mbox === null) return false;
    // A backlog-aware budget: a process buried under a flood gets up to 16×
    // its throughput per visit, so it outpaces the senders and its mailbox
    // stays bounded instead of growing into millions of entries that the
    // garbage collector must mark in one pause (Erlang gets the same effect
    // by charging senders extra reductions for sends to a long queue).
    const budget = mbox.length > BACKLOG ? Math.min(mbox.length, this.throughput * 16) : this.throughput;
    let n = budget;
    const node = this.node;
    while (n-- > 0 && mbox.length > 0) {
      const msg = mbox.shift();
      this.handled++;
      let r: unknown;
      try {
        r = beh.handle(msg, this);
      } catch (e) {
        node.terminate(this, reasonFromThrown(e));
        return false;
      }
      if (this.status !== Status.Idle) return false; // exited while handling
      if (r !== undefined && r !== null && typeof (r as PromiseLike<unknown>).then === 'function') {
        this.suspendOn(r as PromiseLike<unknown>);
        return false;
      }
    }
    node.sched.processed += budget - n - 1;
    return mbox.length > 0;
  }

  private runInit(beh: Behaviour<unknown, unknown>): boolean {
    let r: unknown;
    try {
      r = beh.init!(this);
    } catch (e) {
      this.node.terminate(this, reasonFromThrown(e));
      return false;
    }
    if (this.status === Status.Dead) return false;
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
      this.status = Status.Suspended;
      try {
        (r as PromiseLike<unknown>).then(
          (s) => {
            if (this.status !== Status.Suspended) return;
            this.state = s;
            this.resume();
          },
          (e) => this.node.terminate(this, reasonFromThrown(e)),
        );
      } catch (e) {
        this.node.terminate(this, reasonFromThrown(e)); // a thenable whose then() throws
      }
      return false;
    }
    this.state = r;
    return true;
  }

  private suspendOn(p: PromiseLike<unknown>): void {
    this.status = Status.Suspended;
    try {
      p.then(
        () => {
          if (this.status === Status.Suspended) this.resume();
        },
        (e) => {
          if (this.status === Status.Suspended) this.node.terminate(this, reasonFromThrown(e));
        },
      );
    } catch (e) {
      this.node.terminate(this, reasonFromThrown(e)); // a thenable whose then() throws must not escape into the scheduler
    }
  }

  private resume(): void {
    this.status = Status.Idle;
    if (this.mbox !== null && this.mbox.length > 0 && !this.queued) this.node.sched.enqueue(this);
  }

  private startBody(): void {
    this.status = Status.Suspended;
    let r: unknown;
    try {
      r = this.body!(this as ProcessContext<unknown, undefined>);
    } catch (e) {
      this.node.terminate(this, reasonFromThrown(e));
      return;
    }
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
      try {
        (r as PromiseLike<unknown>).then(
          () => this.node.terminate(this, 'normal'),
          (e) => this.node.terminate(this, reasonFromThrown(e)),
        );
      } catch (e) {
        this.node.terminate(this, reasonFromThrown(e));
      }
    } else {
      this.node.terminate(this, 'normal');
    }
  }

  /** DOWN messages for `ref` in the mailbox (for demonitor flush). */
  flushDown(ref: Ref): number {
    return this.flush((m) => (m as DownMessage | null)?.type === 'DOWN' && (m as DownMessage).ref instanceof Ref && (m as DownMessage).ref.equals(ref));
  }
}

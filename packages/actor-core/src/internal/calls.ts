import { randomFillSync } from 'node:crypto';
import { Pid } from '../pid.js';
import {
  CallExitError,
  CallTimeoutError,
  ofCall,
  type CallError,
  CallingSelfError,
  ExitedError,
  NoProcError,
  NodeDownError,
  TroupeError,
  type CallTarget,
} from '../errors.js';
import type { Dest, RemoteName } from '../types.js';
import type { Node } from '../node.js';
import { Status, type Proc } from './process.js';

/** Who is waiting for a reply: pass it to `reply(from, value)`, from any process, exactly once. */
export interface From {
  readonly node: string;
  readonly tag: number;
  readonly pid: Pid | null;
}

// Protocol envelopes are instances of these classes, which only the runtime
// constructs: no user value — sent locally, or decoded from a peer, where
// only the runtime's own encoding of an instance decodes to one — is ever
// taken for a call, a cast or a system request, whatever its keys.

/** The message a `call` puts in the server's mailbox. */
export class CallEnvelope {
  constructor(
    readonly from: From,
    readonly req: unknown,
  ) {}
}

/** The message a `cast` puts in the server's mailbox. */
export class CastEnvelope {
  constructor(readonly req: unknown) {}
}

/**
 * A request of the runtime's own protocols — `sys` (stop, get_state), the
 * supervisors' — carried as a call's request: `op` is the operation. A user
 * request with the same keys is only data and reaches `handleCall`.
 */
export class ProtocolRequest<Op = unknown> {
  constructor(readonly op: Op) {}
}

export function isCall(m: unknown): m is CallEnvelope {
  return m instanceof CallEnvelope;
}

export function isCast(m: unknown): m is CastEnvelope {
  return m instanceof CastEnvelope;
}

const noop = (): void => {};

/** The call whose promise is being made: `capture` (one function for every call, no closure) fills in its settle functions. */
let making: PendingCall | null = null;
function capture(resolve: (v: unknown) => void, reject: (e: Error) => void): void {
  making!.resolve = resolve;
  making!.reject = reject;
}

export class PendingCall {
  resolve: (v: unknown) => void = noop;
  reject: (e: Error) => void = noop;
  /**
   * When the call times out (`performance.now()` ms): Infinity without a
   * timeout; NaN until `Calls.stamp` reads the clock, after the call was made.
   */
  deadline: number;

  constructor(
    readonly tag: number,
    readonly timeoutMs: number,
    readonly target: CallTarget,
    readonly server: Proc | null,
    readonly serverNode: string,
    readonly req: unknown,
  ) {
    this.deadline = Number.isFinite(timeoutMs) ? NaN : Infinity;
  }

  /** `e`, recording this call on it (for the exit reason of an uncaught failure). */
  failed<E extends CallError>(e: E): E {
    return ofCall(e, this.target, this.req, this.timeoutMs);
  }
}

export const DEFAULT_CALL_TIMEOUT = 5000;

/**
 * Call tags are random 52-bit integers at or above 2^52 (safe integers, so
 * they travel as plain msgpack numbers), far above any process or ref id: a
 * peer cannot guess a pending call's tag, and a tag never equals the id of a
 * real monitor. Random bytes are drawn 8 KiB at a time, so a call costs no
 * syscall.
 */
const TAG_BASE = 2 ** 52;
const tagPool = new Uint32Array(2048);
let tagAt = tagPool.length;
function randomTag(): number {
  if (tagAt >= tagPool.length) {
    randomFillSync(tagPool);
    tagAt = 0;
  }
  const hi = tagPool[tagAt++]! & 0xfffff;
  const lo = tagPool[tagAt++]!;
  return TAG_BASE + hi * 2 ** 32 + lo;
}

function isRemoteName(d: Dest): d is RemoteName {
  return typeof d === 'object' && d !== null && !(d instanceof Pid) && !('via' in d) && typeof (d as RemoteName).node === 'string';
}

/**
 * The one request/reply path (OTP's `gen:do_call`): the reply goes to a slot
 * keyed by a tag, never to the caller's mailbox, so a late reply after a
 * timeout is dropped and call latency does not depend on mailbox length.
 * Server death rejects the slot at once; timeouts share one timer (the
 * earliest deadline), so a call allocates no timer of its own.
 */
export class Calls {
  readonly pending = new Map<number, PendingCall>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private armedFor = Infinity;
  /**
   * Pending calls with a finite timeout. At 0 the timer is unref'd (not
   * cleared: re-arming per call would cost a timer per call), so a program
   * whose calls have all settled can exit.
   */
  private timed = 0;
  private readonly sweepBound = (): void => this.sweep();
  /** Calls made since the last `stamp` (which a queued microtask runs). */
  private readonly unstamped: PendingCall[] = [];
  private readonly stampBound = (): void => this.stamp();

  constructor(private readonly node: Node) {}

  /** Gives up a call: its slot and monitor go, its reply will be dropped and its promise never settles. */
  abandon(tag: number): void {
    const pc = this.pending.get(tag);
    if (pc !== undefined) this.release(pc, true);
  }

  /**
   * Frees a call's slot: the server's caller count, or — for a remote server
   * that has not answered (`demonitor`) — the monitor its node holds for it.
   */
  private release(pc: PendingCall, demonitor: boolean): void {
    this.remove(pc);
    if (pc.server !== null) pc.server.callers--;
    else if (demonitor) this.node.dist.outgoing.demonitorForCall(pc.serverNode, pc.tag);
  }

  /** `started` learns the call's tag once it has a slot (a request id keeps it, to abandon the call). */
  call(caller: Proc | null, dest: Dest, req: unknown, timeoutMs = DEFAULT_CALL_TIMEOUT, started?: (tag: number) => void): Promise<unknown> {
    const node = this.node;
    const target = dest as CallTarget;
    // A call from a process that has exited reaches nothing (OTP runs no code after an exit).
    if (caller !== null && caller.status === Status.Dead) return Promise.reject(new ExitedError(caller.self));
    let pid: Pid | undefined;
    // `{ name, node }` on another node is resolved there, not here (no round trip).
    const remoteName = isRemoteName(dest) && dest.node !== node.name ? dest : null;
    if (remoteName === null) {
      try {
        pid = node.resolve(dest);
      } catch (e) {
        return Promise.reject(e);
      }
      if (pid === undefined) return Promise.reject(ofCall(new NoProcError(target), target, req, timeoutMs));
      if (caller !== null && caller.self.equals(pid)) return Promise.reject(ofCall(new CallingSelfError(target), target, req, timeoutMs));
    }
    const serverNode = remoteName !== null ? remoteName.node : pid!.node;
    let server: Proc | null = null;
    if (serverNode === node.name) {
      server = node.lookup(pid!);
      if (server === null) return Promise.reject(ofCall(new NoProcError(target), target, req, timeoutMs));
    } else if (!node.dist.isConnected(serverNode)) {
      return Promise.reject(ofCall(new NodeDownError(target, serverNode), target, req, timeoutMs));
    }
    if (caller !== null && caller.hook !== null) caller.hook.out(dest, { $gen: 'call', req });
    let tag = randomTag();
    while (this.pending.has(tag)) tag = randomTag();
    if (started !== undefined) started(tag);
    const pc = new PendingCall(tag, timeoutMs, target, server, serverNode, req);
    making = pc;
    const promise = new Promise(capture);
    making = null;
    this.pending.set(tag, pc);
    if (pc.deadline !== Infinity) {
      if (this.timed++ === 0 && this.timer !== null) this.timer.ref();
      // No clock read per call: calls are stamped together right after (see `stamp`).
      if (this.unstamped.push(pc) === 1) queueMicrotask(this.stampBound);
    }
    const self = caller === null ? null : caller.self;
    try {
      if (server !== null) {
        server.callers++;
        server.deliver(new CallEnvelope({ node: node.name, tag, pid: self }, req));
      } else {
        // One signal: the server's node builds the envelope and monitors the server for the call.
        node.dist.outgoing.call(remoteName ?? pid!, tag, self, req);
      }
    } catch (e) {
      // Not sent (an unencodable request, a throwing receive filter): the caller's error.
      if (this.remove(pc) && server !== null) server.callers--;
      pc.reject(e as Error);
    }
    return promise;
  }

  /**
   * Gives the calls made since the last stamp their deadline. The clock is
   * read after every one of them was made, so a deadline is never earlier
   * than `timeoutMs` after its call (a timeout never fires early); it can be
   * later by the rest of the synchronous run that made the call.
   */
  private stamp(): void {
    const list = this.unstamped;
    if (list.length === 0) return;
    const now = performance.now();
    let first = Infinity;
    for (let i = 0; i < list.length; i++) {
      const pc = list[i]!;
      const d = now + pc.timeoutMs;
      pc.deadline = d;
      if (d < first && this.pending.get(pc.tag) === pc) first = d;
    }
    list.length = 0;
    if (first < this.armedFor) this.arm(first);
  }

  /**
   * Delivers a reply to its slot; dropped if the caller gave up or is gone.
   * `fromNode`: the node the reply came from (absent: this one). A call is
   * settled only from where it was sent: a call to a local server by this
   * node alone, a call to a remote server by that server's node alone — no
   * peer can change the result of a call it was not part of. (OTP lets any
   * process holding `From` answer; here a server may hand `From` to another
   * process on its own node or on the caller's, not to one on a third node.)
   * A reply from this node to a remote call ends the call's monitor there
   * with a demonitor. Returns whether the reply settled a call.
   */
  settle(tag: number, value: unknown, fromNode?: string): boolean {
    const pc = this.pending.get(tag);
    if (pc === undefined) return false;
    if (fromNode !== undefined && (pc.server !== null || fromNode !== pc.serverNode)) return false;
    // A reply from the server's node: that node dropped its monitor when it answered.
    this.release(pc, fromNode === undefined);
    pc.resolve(value);
    return true;
  }

  /** The call's server ended (local watcher or remote DOWN), or the call failed with the error `reason`. */
  fail(pc: PendingCall, reason: unknown): void {
    if (!this.remove(pc)) return;
    if (reason instanceof TroupeError) pc.reject(reason); // e.g. a CodecError: the reply could not be sent
    else if (reason === 'noproc') pc.reject(pc.failed(new NoProcError(pc.target)));
    else if (reason === 'noconnection') pc.reject(pc.failed(new NodeDownError(pc.target, pc.serverNode)));
    else pc.reject(pc.failed(new CallExitError(pc.target, reason)));
  }

  /**
   * A local server exited: its callers fail with its reason. A counter on the
   * server (not a set of calls) keeps the call path to two integer updates;
   * the scan happens only when a server dies with calls pending.
   */
  serverExited(server: Proc, reason: unknown): void {
    for (const pc of this.pending.values()) {
      if (pc.server === server) this.fail(pc, reason);
    }
    server.callers = 0;
  }

  /** Rejects every call waiting on a node that went down. */
  nodeDown(nodeName: string): void {
    for (const pc of this.pending.values()) {
      if (pc.server === null && pc.serverNode === nodeName) {
        this.remove(pc);
        pc.reject(pc.failed(new NodeDownError(pc.target, nodeName)));
      }
    }
  }

  /** Takes a call out of the table; false if it was not there (already settled). */
  private remove(pc: PendingCall): boolean {
    if (!this.pending.delete(pc.tag)) return false;
    if (pc.deadline !== Infinity && --this.timed === 0 && this.timer !== null) this.timer.unref();
    return true;
  }

  private arm(deadline: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedFor = deadline;
    const delay = Math.max(0, Math.min(deadline - performance.now(), 2 ** 31 - 1));
    this.timer = setTimeout(this.sweepBound, Math.ceil(delay));
    if (this.timed === 0) this.timer.unref();
  }

  private sweep(): void {
    this.timer = null;
    this.armedFor = Infinity;
    this.stamp(); // calls not stamped yet get their deadline now (none is due)
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.armedFor = Infinity;
    }
    const now = performance.now();
    let next = Infinity;
    for (const pc of this.pending.values()) {
      if (pc.deadline <= now) {
        this.release(pc, true);
        pc.reject(pc.failed(new CallTimeoutError(pc.target, pc.timeoutMs)));
      } else if (pc.deadline < next) {
        next = pc.deadline;
      }
    }
    if (next !== Infinity) this.arm(next);
  }
}

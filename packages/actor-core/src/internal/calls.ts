import { randomFillSync } from 'node:crypto';
import { Pid } from '../pid.js';
import {
  CallExitError,
  CallTimeoutError,
  CallingSelfError,
  NoProcError,
  NodeDownError,
  TroupeError,
  type CallTarget,
} from '../errors.js';
import type { Dest, RemoteName } from '../types.js';
import type { Node } from '../node.js';
import type { Proc } from './process.js';

/** Who is waiting for a reply: pass it to `reply(from, value)`, from any process, exactly once. */
export interface From {
  readonly node: string;
  readonly tag: number;
  readonly pid: Pid | null;
}

/** The message a `call` puts in the server's mailbox. */
export interface CallEnvelope {
  readonly $gen: 'call';
  readonly from: From;
  readonly req: unknown;
}

/** The message a `cast` puts in the server's mailbox. */
export interface CastEnvelope {
  readonly $gen: 'cast';
  readonly req: unknown;
}

export function isCall(m: unknown): m is CallEnvelope {
  return typeof m === 'object' && m !== null && (m as CallEnvelope).$gen === 'call';
}

export function isCast(m: unknown): m is CastEnvelope {
  return typeof m === 'object' && m !== null && (m as CastEnvelope).$gen === 'cast';
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
  ) {
    this.deadline = Number.isFinite(timeoutMs) ? NaN : Infinity;
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
  private readonly sweepBound = (): void => this.sweep();
  /** Calls made since the last `stamp` (which a queued microtask runs). */
  private readonly unstamped: PendingCall[] = [];
  private readonly stampBound = (): void => this.stamp();

  constructor(private readonly node: Node) {}

  call(caller: Proc | null, dest: Dest, req: unknown, timeoutMs = DEFAULT_CALL_TIMEOUT): Promise<unknown> {
    const node = this.node;
    const target = dest as CallTarget;
    let pid: Pid | undefined;
    // `{ name, node }` on another node is resolved there, not here (no round trip).
    const remoteName = isRemoteName(dest) && dest.node !== node.name ? dest : null;
    if (remoteName === null) {
      try {
        pid = node.resolve(dest);
      } catch (e) {
        return Promise.reject(e);
      }
      if (pid === undefined) return Promise.reject(new NoProcError(target));
      if (caller !== null && caller.self.equals(pid)) return Promise.reject(new CallingSelfError(target));
    }
    const serverNode = remoteName !== null ? remoteName.node : pid!.node;
    let server: Proc | null = null;
    if (serverNode === node.name) {
      server = node.lookup(pid!);
      if (server === null) return Promise.reject(new NoProcError(target));
    } else if (!node.dist.isConnected(serverNode)) {
      return Promise.reject(new NodeDownError(target, serverNode));
    }
    let tag = randomTag();
    while (this.pending.has(tag)) tag = randomTag();
    const pc = new PendingCall(tag, timeoutMs, target, server, serverNode);
    making = pc;
    const promise = new Promise(capture);
    making = null;
    this.pending.set(tag, pc);
    if (pc.deadline !== Infinity) {
      // No clock read per call: calls are stamped together right after (see `stamp`).
      if (this.unstamped.push(pc) === 1) queueMicrotask(this.stampBound);
    }
    const self = caller === null ? null : caller.self;
    try {
      if (server !== null) {
        server.callers++;
        server.deliver({ $gen: 'call', from: { node: node.name, tag, pid: self }, req } satisfies CallEnvelope);
      } else {
        // One signal: the server's node builds the envelope and monitors the server for the call.
        node.dist.outgoing.call(remoteName ?? pid!, tag, self, req);
      }
    } catch (e) {
      // Not sent (an unencodable request, a throwing receive filter): the caller's error.
      if (this.pending.delete(tag) && server !== null) server.callers--;
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
    this.pending.delete(tag);
    if (pc.server !== null) pc.server.callers--;
    else if (fromNode === undefined) this.node.dist.outgoing.demonitorForCall(pc.serverNode, tag);
    pc.resolve(value);
    return true;
  }

  /** The call's server ended (local watcher or remote DOWN), or the call failed with the error `reason`. */
  fail(pc: PendingCall, reason: unknown): void {
    if (!this.pending.delete(pc.tag)) return;
    if (reason instanceof TroupeError) pc.reject(reason);
    else if (reason === 'noproc') pc.reject(new NoProcError(pc.target));
    else if (reason === 'noconnection') pc.reject(new NodeDownError(pc.target, pc.serverNode));
    else pc.reject(new CallExitError(pc.target, reason));
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
        this.pending.delete(pc.tag);
        pc.reject(new NodeDownError(pc.target, nodeName));
      }
    }
  }

  private arm(deadline: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedFor = deadline;
    const delay = Math.max(0, Math.min(deadline - performance.now(), 2 ** 31 - 1));
    this.timer = setTimeout(this.sweepBound, Math.ceil(delay));
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
        this.pending.delete(pc.tag);
        if (pc.server !== null) pc.server.callers--;
        else this.node.dist.outgoing.demonitorForCall(pc.serverNode, pc.tag);
        pc.reject(new CallTimeoutError(pc.target, pc.timeoutMs));
      } else if (pc.deadline < next) {
        next = pc.deadline;
      }
    }
    if (next !== Infinity) this.arm(next);
  }
}

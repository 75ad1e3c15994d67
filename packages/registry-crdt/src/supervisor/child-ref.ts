import { BadArgError, CallError, CallingSelfError, TroupeError, type Pid } from '@troupe/actor-core';
import type { DistributedSupervisor } from './distributed-supervisor.js';

/** How a `ChildRef` retries: `attempts` tries, each call bounded by `timeoutMs`, waits of `backoffMs` doubling up to `maxBackoffMs`. */
export interface DeliveryPolicy {
  /** Tries per `send` / `call`, the first included (default 5). */
  readonly attempts?: number;
  /** ms each call attempt waits for its reply (default 5000). */
  readonly timeoutMs?: number;
  /** ms before the second try (default 100), doubling per try... */
  readonly backoffMs?: number;
  /** ...up to this (default 2000). A move of the child cuts a wait short. */
  readonly maxBackoffMs?: number;
  /** A call slower than this (ms) makes the ref `degraded` (default 1000). */
  readonly slowMs?: number;
}

/**
 * - `healthy`: the id resolves to a pid on this node or a connected one,
 *   and the last call through the ref (if any) answered on its first try
 *   within `slowMs`;
 * - `degraded`: resolved and connected, but a call is retrying now or the
 *   last one needed retries or was slow;
 * - `unreachable`: the id resolves to a pid on a node that is not connected
 *   (down, or not yet known to be down);
 * - `not_found`: no running child has this id (not started, or restarting
 *   after its node died).
 */
export type RefHealth = 'healthy' | 'degraded' | 'unreachable' | 'not_found';

/** Every try of a `ChildRef` operation failed; `lastError` is the last try's (undefined: the id never resolved). */
export class RefUnavailableError extends TroupeError {
  constructor(
    readonly id: string,
    readonly attempts: number,
    readonly health: RefHealth,
    readonly lastError: unknown,
  ) {
    super(
      'TROUPE_ERR_REF_UNAVAILABLE',
      `child '${id}' did not answer in ${attempts} attempts (health ${health})${lastError === undefined ? '' : `: ${lastError instanceof Error ? lastError.message : String(lastError)}`}`,
    );
  }
}

const DEFAULTS = { attempts: 5, timeoutMs: 5000, backoffMs: 100, maxBackoffMs: 2000, slowMs: 1000 } as const;

/**
 * A location-transparent reference to a DistributedSupervisor child (Jido's
 * `AgentRef`): it names the child by its stable id, not by a pid. Each
 * attempt resolves the current pid through the supervisor's replica, so the
 * ref follows the child when it is restarted on another node or moved by a
 * drain; failed attempts are retried per the `DeliveryPolicy`.
 *
 * Retries make `call` at-least-once: a call that timed out or lost its node
 * may have run before it is tried again. Servers that must not apply a
 * request twice deduplicate it (a message id), or take their messages from
 * a `ReliableProducer` (`@troupe/persistence`), which accepts this ref as
 * its target (`whereis` + `watch`).
 */
export class ChildRef {
  private readonly policy: Required<DeliveryPolicy>;
  private retrying = 0;
  /** How the last finished call went: true = first try, fast. */
  private lastClean = true;

  constructor(
    readonly sup: DistributedSupervisor,
    readonly id: string,
    policy: DeliveryPolicy = {},
  ) {
    if (typeof id !== 'string' || id.length === 0) throw new BadArgError('ChildRef: id must be a non-empty string');
    const p = { ...DEFAULTS, ...policy };
    for (const k of ['attempts', 'timeoutMs', 'backoffMs', 'maxBackoffMs', 'slowMs'] as const) {
      if (typeof p[k] !== 'number' || !(p[k] >= (k === 'attempts' ? 1 : 0))) throw new BadArgError(`ChildRef: ${k} must be a number >= ${k === 'attempts' ? 1 : 0}`);
    }
    this.policy = p;
  }

  /** The child's pid now, as this node's replica sees it. */
  whereis(): Pid | undefined {
    return this.sup.whereisName(this.id);
  }

  /** Calls `onChange` whenever the child's pid (as `whereis` sees it) changes; returns the unsubscribe. */
  watch(onChange: () => void): () => void {
    let last = this.whereis();
    return this.sup.onChange(() => {
      const now = this.whereis();
      if (now === last || (now !== undefined && last !== undefined && now.equals(last))) return;
      last = now;
      onChange();
    });
  }

  health(): RefHealth {
    const pid = this.whereis();
    if (pid === undefined) return 'not_found';
    if (!this.reachable(pid)) return 'unreachable';
    return this.retrying > 0 || !this.lastClean ? 'degraded' : 'healthy';
  }

  /**
   * Hands `msg` to the child's current pid (on this node or a connected
   * one), waiting per the policy while it has none. Resolves once sent:
   * like any send, it says nothing about delivery (use `call`, or a
   * `ReliableProducer`, for that).
   */
  async send(msg: unknown): Promise<void> {
    let wait: number = this.policy.backoffMs;
    for (let attempt = 1; ; attempt++) {
      const pid = this.whereis();
      if (pid !== undefined && this.reachable(pid)) {
        this.sup.node.send(pid, msg);
        return;
      }
      if (attempt >= this.policy.attempts) throw new RefUnavailableError(this.id, attempt, this.health(), undefined);
      await this.waitMove(pid, wait);
      wait = Math.min(wait * 2, this.policy.maxBackoffMs);
    }
  }

  /**
   * A GenServer call to the child, retried per the policy when the child is
   * not found, its node is not connected, or the call fails with a call
   * error (no process, node down, timeout, exit during the call). Other
   * errors are thrown at once. After the last try: `RefUnavailableError`.
   */
  async call<R = unknown>(request: unknown): Promise<R> {
    let wait: number = this.policy.backoffMs;
    let lastError: unknown;
    let retried = false;
    try {
      for (let attempt = 1; ; attempt++) {
        const pid = this.whereis();
        if (pid !== undefined && this.reachable(pid)) {
          const t0 = performance.now();
          try {
            const r = await this.sup.node.call<R>(pid, request, this.policy.timeoutMs);
            this.lastClean = !retried && performance.now() - t0 <= this.policy.slowMs;
            return r;
          } catch (e) {
            if (!(e instanceof CallError) || e instanceof CallingSelfError) throw e;
            lastError = e;
          }
        }
        if (attempt >= this.policy.attempts) {
          this.lastClean = false;
          throw new RefUnavailableError(this.id, attempt, this.health(), lastError);
        }
        if (!retried) {
          retried = true;
          this.retrying++;
        }
        await this.waitMove(pid, wait);
        wait = Math.min(wait * 2, this.policy.maxBackoffMs);
      }
    } finally {
      if (retried) this.retrying--;
    }
  }

  private reachable(pid: Pid): boolean {
    const node = this.sup.node;
    return pid.node === node.name || node.dist.nodes('connected').includes(pid.node);
  }

  /** Waits `ms`, or less if the child's pid changes from `from` meanwhile (it moved: try the new one at once). */
  private waitMove(from: Pid | undefined, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const off = this.sup.onChange(() => {
        const now = this.whereis();
        if (now !== undefined && (from === undefined || !now.equals(from)) && this.reachable(now)) done();
      });
    });
  }
}

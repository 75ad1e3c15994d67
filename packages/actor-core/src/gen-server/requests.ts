import type { Node } from '../node.js';
import { BadArgError, CallError, NodeDownError, type CallTarget } from '../errors.js';
import { formatReason } from '../exit-reason.js';

/**
 * What a request id's wait gives (OTP 25 `wait_response`): the reply, or
 * `{ error: { reason, server } }` — `noproc`, `noconnection`, `calling_self`,
 * or the reason of a server that exited before replying.
 */
export type CallResponse<Reply = unknown> = { reply: Reply } | { error: { reason: unknown; server: CallTarget } };

let settleOrder = 0;

/**
 * A call in flight (OTP's request id, from `GenServer.sendRequest`). Its
 * response is taken once; waiting on it again after that, or after
 * `receiveResponse` abandoned it, only times out.
 */
export class RequestId<Reply = unknown> {
  /** @internal */ outcome: CallResponse<Reply> | undefined = undefined;
  /** @internal A rejection that is not a call failure (a malformed destination, a dead origin). */
  failure: unknown = undefined;
  /** @internal Arrival order of the outcome: a collection's wait takes the earliest. */
  order = Infinity;
  /** @internal Taken or abandoned. */
  done = false;
  /** @internal */ readonly settled: Promise<void>;

  /** @internal */
  constructor(
    readonly server: CallTarget,
    /** @internal */ readonly node: Node,
    /** @internal */ readonly tag: number,
    promise: Promise<unknown>,
  ) {
    this.settled = promise.then(
      (reply) => {
        this.outcome = { reply: reply as Reply };
        this.order = ++settleOrder;
      },
      (e: unknown) => {
        if (e instanceof CallError) {
          // OTP names a lost connection `noconnection` here, as in a DOWN.
          const reason = e instanceof NodeDownError ? 'noconnection' : e.reason;
          this.outcome = { error: { reason, server: this.server } };
        } else {
          this.failure = e;
        }
        this.order = ++settleOrder;
      },
    );
  }

  /** @internal Whether an outcome is there to take. */
  get ready(): boolean {
    return !this.done && this.order !== Infinity;
  }

  /** @internal Takes the outcome (throws a failure that is not a call's). */
  take(): CallResponse<Reply> {
    this.done = true;
    if (this.outcome === undefined) throw this.failure;
    return this.outcome;
  }

  /** @internal Gives the call up: its late reply is dropped. */
  abandon(): void {
    this.done = true;
    if (this.tag !== 0) this.node.calls.abandon(this.tag);
  }
}

/** Labelled request ids (OTP 25 `reqids_*`): an immutable value, each operation gives a new one. */
export class RequestIdCollection<Label = unknown> {
  /** @internal */
  constructor(/** @internal */ readonly entries: readonly (readonly [RequestId, Label])[]) {}

  get size(): number {
    return this.entries.length;
  }

  toList(): [RequestId, Label][] {
    return this.entries.map(([id, label]) => [id, label]);
  }
}

/** What a collection's wait gives: the first response to arrive, its label and the collection left. */
export type CollectionResponse<Label> = { response: CallResponse; label: Label; collection: RequestIdCollection<Label> };

export function checkWait(what: string, ms: unknown): void {
  if (typeof ms !== 'number' || !(ms === Infinity || (Number.isInteger(ms) && ms >= 0))) {
    throw new BadArgError(`${what}: timeout must be an integer number of ms >= 0 or Infinity, got ${formatReason(ms)}`);
  }
}

/** Resolves when one of `ids` has an outcome, or false after `ms`. */
function arrival(ids: readonly RequestId[], ms: number): Promise<boolean> {
  const pending = ids.filter((id) => !id.done);
  if (pending.length === 0 || ms === 0) return Promise.resolve(false);
  const any = Promise.race(pending.map((id) => id.settled)).then(() => true);
  if (ms === Infinity) return any;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([any, late]).finally(() => clearTimeout(timer));
}

/** `wait_response` / `receive_response` on one id; `abandon`: give the call up on timeout. */
export async function waitOne<Reply>(id: RequestId<Reply>, ms: number, abandon: boolean): Promise<CallResponse<Reply> | 'timeout'> {
  if (!id.ready && !id.done) await arrival([id], ms);
  if (id.ready) return id.take();
  if (id.done) {
    // Taken or abandoned: nothing will come (OTP's wait on a consumed id times out).
    if (ms !== Infinity && ms > 0) await new Promise((r) => setTimeout(r, ms));
    else if (ms === Infinity) await new Promise(() => {});
    return 'timeout';
  }
  if (abandon) id.abandon();
  return 'timeout';
}

/** `wait_response` / `receive_response` on a collection: the earliest outcome, `no_request` if empty. */
export async function waitAny<Label>(
  c: RequestIdCollection<Label>,
  ms: number,
  remove: boolean,
  abandon: boolean,
): Promise<CollectionResponse<Label> | 'no_request' | 'timeout'> {
  if (c.entries.length === 0) return 'no_request';
  const ids = c.entries.map(([id]) => id);
  let first = earliest(c);
  if (first < 0) {
    await arrival(ids, ms);
    first = earliest(c);
  }
  if (first < 0) {
    if (abandon) for (const id of ids) id.abandon();
    return 'timeout';
  }
  const [id, label] = c.entries[first]!;
  const response = id.take();
  const rest = remove ? new RequestIdCollection(c.entries.filter((_, i) => i !== first)) : c;
  return { response, label, collection: rest };
}

function earliest(c: RequestIdCollection<unknown>): number {
  let best = -1;
  let order = Infinity;
  c.entries.forEach(([id], i) => {
    if (id.ready && id.order < order) {
      order = id.order;
      best = i;
    }
  });
  return best;
}

import { Node } from '../node.js';
import type { Pid } from '../pid.js';
import type { Proc } from '../internal/process.js';
import { exitedCall, originProc } from '../internal/origin.js';
import { DEFAULT_CALL_TIMEOUT, ProtocolRequest } from '../internal/calls.js';
import { BadArgError } from '../errors.js';
import { formatReason, type ExitReason } from '../exit-reason.js';
import { nodeOf, type Origin } from '../start-result.js';
import type { CallTarget } from '../errors.js';
import { RequestId, RequestIdCollection, checkWait, waitAny, waitOne, type CollectionResponse, type CallResponse } from './requests.js';
import type { Dest, SpawnOptions, ViaName } from '../types.js';
import { ServerProcess, type AnyServer, type Boot, type SysRequest } from './server.js';
import type {
  GenServer as Callbacks,
  GenStartMonitorResult,
  GenStartResult,
  ReplyTo,
  ServerRef,
  StartOptions,
  UntypedDest,
} from './types.js';

function isVia(x: unknown): x is ViaName {
  if (typeof x !== 'object' || x === null || !('via' in x)) return false;
  const v = (x as ViaName).via as unknown;
  return typeof v === 'object' && v !== null && typeof (v as { registerName?: unknown }).registerName === 'function';
}

function checkTimeout(what: string, ms: unknown): void {
  if (typeof ms !== 'number' || !(ms >= 0)) throw new BadArgError(`${what}: timeout must be a number of ms >= 0 or Infinity, got ${formatReason(ms)}`);
}

const enum Mode {
  Plain,
  Link,
  Monitor,
}

type AnyStart = GenStartResult | GenStartMonitorResult;

function boot(origin: Origin, impl: AnyServer, args: unknown, opts: StartOptions | undefined, mode: Mode): Promise<AnyStart> {
  const node = nodeOf(origin);
  const starter = originProc(origin);
  if (starter === undefined) return exitedCall(origin);
  const what = mode === Mode.Link ? 'startLink' : mode === Mode.Monitor ? 'startMonitor' : 'start';
  try {
    if (typeof impl !== 'object' || impl === null) throw new BadArgError(`${what}: a GenServer is an object with init(args, ctx)`);
    if (mode !== Mode.Plain && starter === null) {
      throw new BadArgError(`${what} links or monitors the calling process: pass a live process context as origin, not the Node`);
    }
    if (opts?.timeout !== undefined) checkTimeout(what, opts.timeout);
  } catch (e) {
    return Promise.reject(e);
  }
  const name = opts?.name;
  let localName: string | undefined;
  let via: ViaName | null = null;
  if (typeof name === 'string') {
    const holder = node.whereis(name);
    if (holder !== undefined) return Promise.resolve({ error: { already_started: holder } });
    localName = name;
  } else if (name !== undefined) {
    if (!isVia(name)) return Promise.reject(new BadArgError(`${what}: name must be a string or { via, name }, got ${formatReason(name)}`));
    via = name; // registered by the server itself, before init (OTP's gen:init_it)
  }
  return new Promise<AnyStart>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let proc: Proc | null = null;
    const done = (r: GenStartResult): void => {
      if (settled) return;
      settled = true;
      if (timer !== null) clearTimeout(timer);
      if (proc !== null) proc.onExit = null;
      // The monitor is taken once init succeeded (the server is alive then), so a failed start leaves no DOWN behind.
      if (mode === Mode.Monitor && typeof r === 'object' && 'ok' in r) resolve({ ok: r.ok, monitor: starter!.monitor(r.ok) });
      else resolve(r);
    };
    const b: Boot = { ack: done, parent: mode === Mode.Link ? starter!.self : null, via };
    const label = opts?.spawn?.label ?? impl.name ?? 'gen_server';
    const spawnOpts: SpawnOptions = { ...opts?.spawn, label };
    if (localName !== undefined) spawnOpts.name = localName;
    const beh = new ServerProcess(impl, args, b, label);
    let pid: Pid;
    try {
      pid = starter === null ? node.spawn(beh, spawnOpts) : mode === Mode.Link ? starter.spawnLink(beh, spawnOpts) : starter.spawn(beh, spawnOpts);
    } catch (e) {
      reject(e);
      return;
    }
    proc = node.lookup(pid);
    // Death before the acknowledgement (killed, an exit signal): the start fails with that reason.
    proc!.onExit = (reason: ExitReason) => done({ error: reason });
    if (opts?.timeout !== undefined && Number.isFinite(opts.timeout)) {
      timer = setTimeout(() => {
        if (settled) return;
        done({ error: 'timeout' });
        // Unlink first (OTP 26 sync_start_link), so the starter sees no EXIT for the kill.
        if (mode === Mode.Link) starter!.unlink(pid);
        node.exit(pid, 'kill');
      }, opts.timeout);
    }
  });
}

/**
 * Starts a GenServer not linked to the caller; resolves after `init` ran.
 * The server's parent is itself (as OTP's `gen_server:start`): when it
 * traps exits, an exit signal from itself runs `terminate` and stops it.
 */
function start<S, Call, Cast, Reply, Info, Args, Cont>(
  origin: Origin,
  impl: Callbacks<S, Call, Cast, Reply, Info, Args, Cont>,
  args: Args,
  opts?: StartOptions,
): Promise<GenStartResult<Call, Cast, Reply>> {
  return boot(origin, impl as AnyServer, args, opts, Mode.Plain) as Promise<GenStartResult<Call, Cast, Reply>>;
}

/**
 * Starts a GenServer linked to the calling process (its parent). A failed
 * init gives the result and no EXIT signal (OTP 26+): the server unlinks
 * before it exits.
 */
function startLink<S, Call, Cast, Reply, Info, Args, Cont>(
  origin: Origin,
  impl: Callbacks<S, Call, Cast, Reply, Info, Args, Cont>,
  args: Args,
  opts?: StartOptions,
): Promise<GenStartResult<Call, Cast, Reply>> {
  return boot(origin, impl as AnyServer, args, opts, Mode.Link) as Promise<GenStartResult<Call, Cast, Reply>>;
}

/** Starts a GenServer monitored by the calling process; the monitor exists only if the start succeeded. */
function startMonitor<S, Call, Cast, Reply, Info, Args, Cont>(
  origin: Origin,
  impl: Callbacks<S, Call, Cast, Reply, Info, Args, Cont>,
  args: Args,
  opts?: StartOptions,
): Promise<GenStartMonitorResult<Call, Cast, Reply>> {
  return boot(origin, impl as AnyServer, args, opts, Mode.Monitor) as Promise<GenStartMonitorResult<Call, Cast, Reply>>;
}

/**
 * A synchronous request (OTP's `gen_server:call`): resolves to the reply, or
 * rejects with CallTimeoutError, NoProcError, CallingSelfError,
 * CallExitError (the server died; `reason` is its exit reason) or
 * NodeDownError. A late reply after a timeout is dropped.
 */
function call<Call, Reply>(origin: Origin, server: ServerRef<Call, never, Reply>, req: NoInfer<Call>, timeoutMs?: number): Promise<Reply>;
function call<Reply = unknown>(origin: Origin, server: UntypedDest, req: unknown, timeoutMs?: number): Promise<Reply>;
function call(origin: Origin, server: Dest, req: unknown, timeoutMs: number = DEFAULT_CALL_TIMEOUT): Promise<unknown> {
  try {
    checkTimeout('call', timeoutMs);
  } catch (e) {
    return Promise.reject(e);
  }
  const caller = originProc(origin);
  if (caller === undefined) return exitedCall(origin);
  return nodeOf(origin).calls.call(caller, server, req, timeoutMs);
}

/** Fire-and-forget request; never fails, even for a dead server or an unknown name. */
function cast<Cast>(origin: Origin, server: ServerRef<never, Cast, unknown>, req: NoInfer<Cast>): void;
function cast(origin: Origin, server: UntypedDest, req: unknown): void;
function cast(origin: Origin, server: Dest, req: unknown): void {
  const p = originProc(origin);
  if (p === undefined) return;
  if (p !== null && p.hook !== null) p.hook.out(server, { $gen: 'cast', req }); // traced (sys)
  nodeOf(origin).cast(server, req);
}

/** Answers a call whose handler returned `{ noreply }`; from any process, once (later replies are dropped). */
function reply<Reply>(origin: Origin, from: ReplyTo<Reply>, value: NoInfer<Reply>): void {
  const p = originProc(origin);
  if (p === undefined) return;
  if (p !== null && p.hook !== null) p.hook.out(from.pid ?? from.node, { reply: value }); // traced (sys)
  nodeOf(origin).reply(from, value);
}

/**
 * Stops a server (OTP's `gen_server:stop`): it runs `terminate(reason)` and
 * exits with `reason`; resolves after that. Rejects NoProcError if it is not
 * alive, CallExitError if terminate failed, CallTimeoutError after `timeoutMs`.
 */
function stop(origin: Origin, server: ServerRef<never, never, unknown> | UntypedDest, reason: ExitReason = 'normal', timeoutMs = Infinity): Promise<void> {
  try {
    checkTimeout('stop', timeoutMs);
  } catch (e) {
    return Promise.reject(e);
  }
  const req = new ProtocolRequest<SysRequest>({ $sys: 'stop', reason });
  const caller = originProc(origin);
  if (caller === undefined) return exitedCall(origin);
  return nodeOf(origin).calls.call(caller, server, req, timeoutMs).then(() => undefined);
}

/** The server's current state (OTP's `sys:get_state`), for debugging and tests; does not cancel an idle timeout. */
function getState<S = unknown>(origin: Origin, server: ServerRef<never, never, unknown> | UntypedDest, timeoutMs = DEFAULT_CALL_TIMEOUT): Promise<S> {
  const req = new ProtocolRequest<SysRequest>({ $sys: 'get_state' });
  return call<S>(origin, server as UntypedDest, req, timeoutMs);
}

/**
 * Sends a call without waiting (OTP 25 `send_request/2`): returns its request
 * id; take the response with `waitResponse` or `receiveResponse`. The call has
 * no timeout of its own (the wait has one) and fails if the server exits.
 * With a label and a collection (`send_request/4`): returns the collection
 * with the new id added under that label.
 */
function sendRequest<Call, Reply>(origin: Origin, server: ServerRef<Call, never, Reply>, req: NoInfer<Call>): RequestId<Reply>;
function sendRequest<Reply = unknown>(origin: Origin, server: UntypedDest, req: unknown): RequestId<Reply>;
function sendRequest<Label>(origin: Origin, server: ServerRef | UntypedDest, req: unknown, label: Label, collection: RequestIdCollection<Label>): RequestIdCollection<Label>;
function sendRequest(origin: Origin, server: Dest, req: unknown, ...labelled: [unknown, RequestIdCollection] | []): RequestId | RequestIdCollection {
  const node = nodeOf(origin);
  let tag = 0; // stays 0 when the call is rejected before it gets a slot
  const caller = originProc(origin);
  const promise = caller === undefined ? exitedCall(origin) : node.calls.call(caller, server, req, Infinity, (t) => (tag = t));
  const id = new RequestId(server as CallTarget, node, tag, promise);
  if (labelled.length === 0) return id;
  return reqIdsAdd(id, labelled[0], labelled[1]);
}

/**
 * Waits up to `timeoutMs` for a request's response (OTP 25 `wait_response`):
 * `{ reply }`, `{ error: { reason, server } }`, or `'timeout'` — the request
 * is kept, so its response can still be had by waiting again. On a
 * collection: the first response to arrive, with its label and the rest of
 * the collection (`remove: false` keeps the id in it), or `'no_request'` if
 * it is empty.
 */
function waitResponse<Reply>(id: RequestId<Reply>, timeoutMs?: number): Promise<CallResponse<Reply> | 'timeout'>;
function waitResponse<Label>(c: RequestIdCollection<Label>, timeoutMs?: number, remove?: boolean): Promise<CollectionResponse<Label> | 'no_request' | 'timeout'>;
function waitResponse(x: RequestId | RequestIdCollection, timeoutMs = Infinity, remove = true): Promise<unknown> {
  return wait('waitResponse', x, timeoutMs, remove, false);
}

/**
 * As `waitResponse`, but a timeout abandons the request (every request of a
 * collection): its late reply is dropped (OTP 25 `receive_response`).
 */
function receiveResponse<Reply>(id: RequestId<Reply>, timeoutMs?: number): Promise<CallResponse<Reply> | 'timeout'>;
function receiveResponse<Label>(c: RequestIdCollection<Label>, timeoutMs?: number, remove?: boolean): Promise<CollectionResponse<Label> | 'no_request' | 'timeout'>;
function receiveResponse(x: RequestId | RequestIdCollection, timeoutMs = Infinity, remove = true): Promise<unknown> {
  return wait('receiveResponse', x, timeoutMs, remove, true);
}

function wait(what: string, x: RequestId | RequestIdCollection, timeoutMs: number, remove: boolean, abandon: boolean): Promise<unknown> {
  try {
    checkWait(what, timeoutMs);
  } catch (e) {
    return Promise.reject(e);
  }
  if (x instanceof RequestId) return waitOne(x, timeoutMs, abandon);
  if (x instanceof RequestIdCollection) return waitAny(x, timeoutMs, remove, abandon);
  return Promise.reject(new BadArgError(`${what}: not a request id or collection: ${formatReason(x)}`));
}

/** An empty request id collection (OTP 25 `reqids_new`). */
function reqIdsNew<Label = unknown>(): RequestIdCollection<Label> {
  return new RequestIdCollection<Label>([]);
}

/** The collection with `id` added under `label` (`reqids_add`); badarg if `id` is already in it. */
function reqIdsAdd<Label>(id: RequestId, label: Label, c: RequestIdCollection<Label>): RequestIdCollection<Label> {
  if (c.entries.some(([x]) => x === id)) throw new BadArgError('reqIdsAdd: the request id is already in the collection');
  return new RequestIdCollection([...c.entries, [id, label] as const]);
}

/** How many request ids a collection holds (`reqids_size`). */
function reqIdsSize(c: RequestIdCollection<unknown>): number {
  return c.size;
}

/** Types a pid (or a pid from a name lookup) as a server reference; no run-time check. */
function ref<Call = unknown, Cast = unknown, Reply = unknown>(pid: Pid): ServerRef<Call, Cast, Reply> {
  return pid as ServerRef<Call, Cast, Reply>;
}

/** The GenServer API; `GenServer<...>` is also the callbacks' type. */
export const GenServer = {
  start,
  startLink,
  startMonitor,
  call,
  cast,
  reply,
  stop,
  getState,
  ref,
  sendRequest,
  waitResponse,
  receiveResponse,
  reqIdsNew,
  reqIdsAdd,
  reqIdsSize,
} as const;

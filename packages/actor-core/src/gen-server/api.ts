import { Node } from '../node.js';
import type { Pid } from '../pid.js';
import type { Proc } from '../internal/process.js';
import { DEFAULT_CALL_TIMEOUT } from '../internal/calls.js';
import { BadArgError } from '../errors.js';
import { formatReason, type ExitReason } from '../exit-reason.js';
import type { Origin } from '../start-result.js';
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

function nodeOf(origin: Origin): Node {
  return origin instanceof Node ? origin : origin.node;
}

/** The calling process, if the origin is one (for links, monitors and calling_self detection). */
function procOf(origin: Origin): Proc | null {
  return origin instanceof Node ? null : origin.node.lookup(origin.self);
}

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
  const starter = procOf(origin);
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
 * The server's parent is itself (as OTP's `gen_server:start`): only a
 * `startLink` caller's exit signal runs `terminate`.
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
  return nodeOf(origin).calls.call(procOf(origin), server, req, timeoutMs);
}

/** Fire-and-forget request; never fails, even for a dead server or an unknown name. */
function cast<Cast>(origin: Origin, server: ServerRef<never, Cast, unknown>, req: NoInfer<Cast>): void;
function cast(origin: Origin, server: UntypedDest, req: unknown): void;
function cast(origin: Origin, server: Dest, req: unknown): void {
  const hook = origin instanceof Node ? null : procOf(origin)?.hook ?? null;
  if (hook !== null) hook.out(server, { $gen: 'cast', req }); // traced (sys)
  nodeOf(origin).cast(server, req);
}

/** Answers a call whose handler returned `{ noreply }`; from any process, once (later replies are dropped). */
function reply<Reply>(origin: Origin, from: ReplyTo<Reply>, value: NoInfer<Reply>): void {
  const hook = origin instanceof Node ? null : procOf(origin)?.hook ?? null;
  if (hook !== null) hook.out(from.pid ?? from.node, { reply: value }); // traced (sys)
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
  const req: SysRequest = { $sys: 'stop', reason };
  return nodeOf(origin).calls.call(procOf(origin), server, req, timeoutMs).then(() => undefined);
}

/** The server's current state (OTP's `sys:get_state`), for debugging and tests; does not cancel an idle timeout. */
function getState<S = unknown>(origin: Origin, server: ServerRef<never, never, unknown> | UntypedDest, timeoutMs = DEFAULT_CALL_TIMEOUT): Promise<S> {
  const req: SysRequest = { $sys: 'get_state' };
  return call<S>(origin, server as UntypedDest, req, timeoutMs);
}

/** Types a pid (or a pid from a name lookup) as a server reference; no run-time check. */
function ref<Call = unknown, Cast = unknown, Reply = unknown>(pid: Pid): ServerRef<Call, Cast, Reply> {
  return pid as ServerRef<Call, Cast, Reply>;
}

/** The GenServer API; `GenServer<...>` is also the callbacks' type. */
export const GenServer = { start, startLink, startMonitor, call, cast, reply, stop, getState, ref } as const;

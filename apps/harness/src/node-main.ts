/**
 * The entry script of one node process. The harness forks it with an IPC
 * channel and its `NodeConfig` in the environment; it starts a Node and a
 * WsTransport on 127.0.0.1 (port 0), reports `ready` with its URL, then
 * serves requests from the test and streams events (nodeup/nodedown, DOWN/
 * EXIT seen by probes, log lines) back. It exits when the IPC channel goes
 * away, so a dead test never leaves node processes behind.
 */
import { GenServer, Node, isStarted, type Dest, type ExitReason, type Logger, type Pid, type ProcessContext, type Ref } from '@troupe/actor-core';
import { WsTransport } from '@troupe/transport-ws';
import { block, unblock } from '@troupe/transport-ws/testing';
import { pathToFileURL } from 'node:url';
import { CONFIG_ENV, now, type FromNode, type HarnessEvent, type NodeConfig, type ToNode } from './protocol.js';
import type { Scenario, ScenarioEnv, Scenarios } from './scenario.js';
import { errorToWire, fromWire, toWire, type WireValue } from './wire.js';

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;

function post(m: FromNode): void {
  // After the parent went away there is nobody to tell; the 'disconnect' handler exits.
  if (process.connected) process.send!(m);
}

function emit(e: HarnessEvent): void {
  post({ t: 'event', event: toWire(e) });
}

function forwardingLogger(minLevel: keyof typeof LEVELS, echo: boolean): Logger {
  const log =
    (level: keyof typeof LEVELS) =>
    (msg: string, data?: Record<string, unknown>): void => {
      if (LEVELS[level] < LEVELS[minLevel]) return;
      if (echo) process.stderr.write(`${level} ${msg} ${data === undefined ? '' : safeJson(data)}\n`);
      emit({ kind: 'log', level, msg, data: data ?? null, at: now() });
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function safeJson(x: unknown): string {
  try {
    return JSON.stringify(x);
  } catch {
    return String(x);
  }
}

/** A GenServer that replies with the request: the target of remote calls in tests. */
const echoServer: GenServer<null, unknown, unknown, unknown> = {
  name: 'harness_echo',
  init: () => ({ ok: null }),
  handleCall: (req, _from, state) => ({ reply: req, state }),
  handleCast: (_req, state) => ({ noreply: state }),
};

/** A process that waits forever (a target for links and monitors). */
const idle = {
  name: 'harness_idle',
  handle(): void {},
};

interface ProbeEntry {
  ctx: ProcessContext;
  pid: Pid;
}

async function main(): Promise<void> {
  const raw = process.env[CONFIG_ENV];
  if (raw === undefined) throw new Error(`${CONFIG_ENV} is not set: this script is started by @troupe/harness`);
  const cfg = JSON.parse(raw) as NodeConfig;
  // The test process owns us: when its IPC channel closes (it exited or crashed), exit too.
  process.on('disconnect', () => process.exit(0));

  const scenarios = new Map<string, Scenario>();
  for (const m of cfg.scenarioModules) {
    const url = m.startsWith('file:') ? m : pathToFileURL(m).href;
    const mod = (await import(url)) as { scenarios?: Scenarios };
    if (mod.scenarios === undefined) throw new Error(`scenario module ${m} does not export 'scenarios'`);
    for (const [k, f] of Object.entries(mod.scenarios)) scenarios.set(k, f);
  }

  const logger = forwardingLogger(cfg.logLevel ?? 'info', cfg.echoLogs ?? false);
  const node = new Node({ name: cfg.name, logger, ...(cfg.creation !== undefined ? { creation: cfg.creation } : {}) });
  const t = await WsTransport.start(node, { ...cfg.transport, cookie: cfg.cookie, host: '127.0.0.1', port: 0 });
  t.on('nodeup', (e) => emit({ kind: 'nodeup', node: e.node, creation: e.creation, at: now() }));
  t.on('nodedown', (e) => emit({ kind: 'nodedown', node: e.node, reason: e.reason, at: now() }));

  const env: ScenarioEnv = {
    node,
    transport: t,
    emit: (name, data) => emit({ kind: 'custom', name, data: data ?? null, at: now() }),
    store: new Map(),
  };

  const probes = new Map<number, ProbeEntry>();
  let nextProbe = 1;
  const probe = (id: number): ProbeEntry => {
    const p = probes.get(id);
    if (p === undefined) throw new Error(`no probe ${id} on ${node.name}`);
    return p;
  };

  const spawnProbe = (opts: { trapExit?: boolean; name?: string }): Promise<{ id: number; pid: Pid }> => {
    const id = nextProbe++;
    return new Promise((resolve) => {
      const pid = node.spawn(
        {
          name: 'harness_probe',
          init(ctx: ProcessContext<unknown, undefined>): undefined {
            probes.set(id, { ctx, pid: ctx.self });
            resolve({ id, pid: ctx.self });
            return undefined;
          },
          handle(msg: unknown): void {
            const m = msg as { type?: string; ref?: Ref; object?: unknown; reason?: unknown; from?: Pid };
            const at = now();
            if (m !== null && typeof m === 'object' && m.type === 'DOWN') emit({ kind: 'down', probe: id, ref: m.ref, object: m.object, reason: m.reason, at });
            else if (m !== null && typeof m === 'object' && m.type === 'EXIT') emit({ kind: 'exit', probe: id, from: m.from, reason: m.reason, at });
            else emit({ kind: 'message', probe: id, msg, at });
          },
        },
        { trapExit: opts.trapExit ?? false, ...(opts.name !== undefined ? { name: opts.name } : {}) },
      );
      void pid;
    });
  };
  node.events.on('exit', (e) => {
    for (const [id, p] of probes) {
      if (p.pid.equals(e.pid)) {
        probes.delete(id);
        emit({ kind: 'probe_exit', probe: id, reason: e.reason, at: now() });
      }
    }
  });

  const ops: Record<string, (...args: unknown[]) => unknown> = {
    ping: () => 'pong',
    info: () => ({ name: node.name, url: t.url, creation: node.creation, nodes: t.nodes(), processes: node.processCount }),
    connect: (url) => t.connect(url as string),
    nodes: (kind) => t.nodes((kind as 'visible' | 'hidden' | 'connected' | undefined) ?? 'visible'),
    peer: (name) => t.peer(name as string) ?? null,
    disconnect: (name) => t.disconnect(name as string),
    block: (name) => block(t, name as string),
    unblock: (name) => unblock(t, name as string),
    run: async (name, args) => {
      const f = scenarios.get(name as string);
      if (f === undefined) throw new Error(`no scenario '${String(name)}' on ${node.name} (known: ${[...scenarios.keys()].join(', ') || 'none'})`);
      return (f as (env: ScenarioEnv, ...a: unknown[]) => unknown)(env, ...(args as unknown[]));
    },
    spawn: async (kind, opts) => {
      const o = (opts ?? {}) as { name?: string };
      if (kind === 'echo') {
        const r = await GenServer.start(node, echoServer, undefined, o.name !== undefined ? { name: o.name } : {});
        if (!isStarted(r)) throw new Error(`echo server did not start: ${safeJson(r)}`);
        return r.ok;
      }
      if (kind === 'idle') return node.spawn(idle, o.name !== undefined ? { name: o.name } : {});
      throw new Error(`unknown process kind '${String(kind)}' (idle, echo; or run a scenario)`);
    },
    probe: (opts) => spawnProbe((opts ?? {}) as { trapExit?: boolean; name?: string }),
    probeMonitor: (id, targets) => (targets as Dest[]).map((x) => probe(id as number).ctx.monitor(x as Pid)),
    probeDemonitor: (id, ref) => probe(id as number).ctx.demonitor(ref as Ref),
    probeLink: (id, pids) => {
      for (const p of pids as Pid[]) probe(id as number).ctx.link(p);
    },
    probeUnlink: (id, pid) => probe(id as number).ctx.unlink(pid as Pid),
    probeSend: (id, dest, msg) => probe(id as number).ctx.send(dest as Dest, msg),
    probeExit: (id, pid, reason) => probe(id as number).ctx.exit(pid as Pid, reason as ExitReason),
    send: (dest, msg) => node.send(dest as Dest, msg),
    call: (dest, req, timeoutMs) => node.call(dest as Dest, req, timeoutMs as number | undefined),
    exit: (pid, reason) => node.exit(pid as Pid, reason as ExitReason),
    isAlive: (pid) => node.isAlive(pid as Pid),
    whereis: (name) => node.whereis(name as string) ?? null,
    processInfo: (pid) => node.processInfo(pid as Pid) ?? null,
    processCount: () => node.processCount,
    stop: async () => {
      await t.close();
      node.shutdown();
      // Reply first, then exit: the reply is flushed before the channel closes.
      setImmediate(() => process.exit(0));
      return true;
    },
  };

  process.on('message', (raw: unknown) => {
    const m = raw as ToNode;
    if (m?.t !== 'req') return;
    const op = ops[m.op];
    const reply = (r: { ok: true; value: unknown } | { ok: false; error: unknown }): void => {
      if (r.ok) post({ t: 'reply', id: m.id, ok: true, value: toWire(r.value) });
      else post({ t: 'reply', id: m.id, ok: false, error: errorToWire(r.error) });
    };
    if (op === undefined) return reply({ ok: false, error: new Error(`unknown op '${m.op}'`) });
    try {
      Promise.resolve(op(...m.args.map((a: WireValue) => fromWire(a)))).then(
        (value) => reply({ ok: true, value }),
        (error: unknown) => reply({ ok: false, error }),
      );
    } catch (error) {
      reply({ ok: false, error });
    }
  });

  post({ t: 'ready', name: node.name, url: t.url, creation: node.creation });
}

main().catch((e: unknown) => {
  post({ t: 'fatal', error: errorToWire(e) });
  process.stderr.write(`harness node failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  // Give the IPC message a moment to leave, then go.
  setTimeout(() => process.exit(1), 50);
});

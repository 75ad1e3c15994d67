import type { Node } from '../node.js';
import { Rpc, type RpcCallInfo } from '../distribution/rpc.js';
import { BadArgError } from '../errors.js';
import { Sys } from './sys.js';
import { sysMonitor } from './monitor.js';
import { nodeSnapshot, type MeshView, parseLocalPid, processDetail, processRows, supervisionTrees } from './introspect.js';

/** The RPC names a node answers when its introspection is exposed. All are read-only except `troupe.sys.kill`. */
export const SYS_FUNCTIONS = [
  'troupe.sys.node',
  'troupe.sys.processes',
  'troupe.sys.process',
  'troupe.sys.trees',
  'troupe.sys.events',
  'troupe.sys.services',
  'troupe.sys.trace',
  'troupe.sys.traceRead',
  'troupe.sys.untrace',
  'troupe.sys.kill',
] as const;

export interface IntrospectionOptions {
  /**
   * Cluster services as this node sees them (registry names, supervisor
   * children, groups, topics): plain data, bounded by the provider. Without
   * it `troupe.sys.services` answers null.
   */
  services?: () => unknown;
  /** The node's mesh address and its connections with their addresses (from the transport), so an observer can dial every member. */
  mesh?: () => MeshView;
  /** ms since the epoch the node started (uptime); default: now. */
  started?: number;
}

const MAX_REASON = 200;
/** Traces an observer may have running on one node at once. */
const MAX_REMOTE_TRACES = 32;

function int(v: unknown, what: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new BadArgError(`${what} must be an integer ≥ 0`);
  return v;
}

/**
 * Makes this node's introspection callable over the mesh (by any node that
 * holds the cookie — an observer is a hidden node). Everything returned is
 * plain, bounded data; nothing evaluates code. The one action is `kill`,
 * which sends an exit signal with a short string reason and is logged.
 */
export function exposeIntrospection(node: Node, opts: IntrospectionOptions = {}): void {
  const started = opts.started ?? Date.now();
  const mon = sysMonitor(node);
  const remoteTraces = new Set<string>();
  // Lag sampling starts with the first reader, not with the node: its timer wakes the node five
  // times a second, most of an idle node's CPU when nobody looks (the first snapshot has no lag yet).
  Rpc.expose(node, 'troupe.sys.node', () => {
    node.monitorLag();
    return nodeSnapshot(node, started, opts.mesh?.() ?? null);
  });
  Rpc.expose(node, 'troupe.sys.processes', () => processRows(node));
  Rpc.expose(node, 'troupe.sys.process', (args) => processDetail(node, parseLocalPid(node, args[0])));
  Rpc.expose(node, 'troupe.sys.trees', () => {
    mon.prune();
    return supervisionTrees(node);
  });
  Rpc.expose(node, 'troupe.sys.events', (args) => mon.events(int(args[0], 'sinceSeq', 0)));
  Rpc.expose(node, 'troupe.sys.services', () => (opts.services === undefined ? null : opts.services()));
  Rpc.expose(node, 'troupe.sys.trace', (args) => {
    const pid = parseLocalPid(node, args[0]);
    for (const k of remoteTraces) if (!Sys.isTraced(node, parseLocalPid(node, `<${k}>`))) remoteTraces.delete(k);
    if (!remoteTraces.has(pid.key) && remoteTraces.size >= MAX_REMOTE_TRACES) throw new BadArgError(`at most ${MAX_REMOTE_TRACES} traces at once on ${node.name}`);
    // Bounded for a remote reader: 100 events/s, 500 kept, 2 minutes unless renewed.
    const ok = Sys.trace(node, pid, { buffer: 500, perSecond: 100, durationMs: 120_000 });
    if (ok) remoteTraces.add(pid.key);
    return ok;
  });
  Rpc.expose(node, 'troupe.sys.traceRead', (args) => Sys.traceEvents(node, parseLocalPid(node, args[0]), int(args[1], 'sinceSeq', 0)) ?? null);
  Rpc.expose(node, 'troupe.sys.untrace', (args) => Sys.untrace(node, parseLocalPid(node, args[0])));
  Rpc.expose(node, 'troupe.sys.kill', (args, info: RpcCallInfo) => {
    const pid = parseLocalPid(node, args[0]);
    const reason = args[1];
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > MAX_REASON) {
      throw new BadArgError(`kill: the reason must be a string of 1..${MAX_REASON} characters`);
    }
    if (!node.isAlive(pid)) return false;
    node.logger.warn('sys: process killed on request', { pid: pid.toString(), reason, by: info.node });
    node.exit(pid, reason);
    return true;
  });
}

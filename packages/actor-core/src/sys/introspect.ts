import type { Node } from '../node.js';
import { Pid } from '../pid.js';
import { supCall } from '../supervisor/call.js';
import { BadArgError } from '../errors.js';
import { renderValue } from './render.js';
import { sysMonitor } from './monitor.js';

/**
 * Read-only snapshots of one node, in plain data (strings and numbers) so
 * they cross the mesh and reach a browser unchanged. Pids are written
 * `<node.id.creation>`. Every list is bounded.
 */

/** A node's mesh address and its links, as its transport reports them. */
export interface MeshView {
  url: string | null;
  peers: { name: string; url: string | null; hidden: boolean }[];
}

export interface NodeSnapshot {
  node: string;
  creation: number;
  /** ms since the epoch, on this node's clock. */
  at: number;
  uptimeMs: number;
  processes: number;
  /** Messages handled by behaviour-style processes (GenServers included) since start. */
  messages: number;
  runQueue: number;
  mailboxMax: number;
  pendingCalls: number;
  timers: number;
  registered: number;
  crashes: number;
  restarts: number;
  memory: { rss: number; heapUsed: number; heapTotal: number };
  /** Event-loop delay in ms (null until lag monitoring has samples). */
  lag: { p50: number; p99: number; max: number } | null;
  /** Mesh links: peers this node is connected to. */
  peers: { visible: string[]; hidden: string[] };
  /** Addresses, when the node's introspection was given them. */
  mesh: MeshView | null;
}

export interface ProcessRow {
  pid: string;
  name: string | null;
  behaviour: string | null;
  status: string;
  mailbox: number;
  handled: number;
  links: number;
  monitors: number;
  traced: boolean;
}

export interface ProcessDetail extends ProcessRow {
  parent: string | null;
  trapExit: boolean;
  linkList: string[];
  monitorList: string[];
  monitoredBy: string[];
  /** Bounded rendering of the process's state (a GenServer's state, a behaviour's ctx.state). */
  state: string;
  /** Bounded renderings of the first queued messages. */
  queue: string[];
  /** Restarts done by this process, if it is a supervisor. */
  restarts: number | null;
}

export interface TreeNode {
  pid: string | null;
  id: string | null;
  name: string | null;
  behaviour: string | null;
  type: 'supervisor' | 'worker';
  restarts: number;
  /** True when the child is being restarted (no pid). */
  restarting: boolean;
  children: TreeNode[];
}

const SUPERVISOR_LABELS = new Set(['supervisor', 'dynamic_supervisor']);
const MAX_ROWS = 5000;
const MAX_TREE_NODES = 2000;

function statusOf(node: Node, pid: Pid): string {
  return node.processInfo(pid)?.status ?? 'exited';
}

function str(x: unknown): string {
  return x instanceof Pid ? x.toString() : typeof x === 'object' && x !== null && 'name' in x ? `${String((x as { name: unknown }).name)}@${String((x as { node?: unknown }).node)}` : String(x);
}

/** Parses `<node.id.creation>` into a pid of this node; throws BadArgError otherwise. */
export function parseLocalPid(node: Node, s: unknown): Pid {
  if (typeof s !== 'string' || s.length > 300) throw new BadArgError('expected a pid string <node.id.creation>');
  const m = /^<(.+)\.(\d+)\.(\d+)>$/.exec(s);
  if (m === null) throw new BadArgError(`not a pid: ${JSON.stringify(s.slice(0, 80))}`);
  if (m[1] !== node.name) throw new BadArgError(`${s} is not a process of ${node.name}`);
  return new Pid(node.name, Number(m[2]), Number(m[3]));
}

/** The longest mailbox of any local process (one walk of the process table). */
export function mailboxMax(node: Node): number {
  let max = 0;
  for (const pid of node.processes()) {
    const n = node.lookup(pid)?.mbox?.length ?? 0;
    if (n > max) max = n;
  }
  return max;
}

export function nodeSnapshot(node: Node, started: number, mesh: MeshView | null = null): NodeSnapshot {
  const mon = sysMonitor(node);
  const st = node.stats();
  const mem = process.memoryUsage();
  return {
    node: node.name,
    creation: node.creation,
    at: Date.now(),
    uptimeMs: Date.now() - started,
    processes: st.processes,
    messages: st.processed,
    runQueue: st.runQueue,
    mailboxMax: mailboxMax(node),
    pendingCalls: st.pendingCalls,
    timers: st.timers,
    registered: node.registered().length,
    crashes: mon.crashes,
    restarts: mon.restarts,
    memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal },
    lag: st.lag === undefined ? null : { p50: st.lag.p50, p99: st.lag.p99, max: st.lag.max },
    peers: { visible: node.dist.nodes('visible'), hidden: node.dist.nodes('hidden') },
    mesh,
  };
}

function row(node: Node, pid: Pid): ProcessRow | null {
  const p = node.lookup(pid);
  const info = node.processInfo(pid);
  if (p === null || info === undefined) return null;
  return {
    pid: pid.toString(),
    name: info.name,
    behaviour: info.behaviour,
    status: info.status,
    mailbox: info.mailbox,
    handled: info.handled,
    links: info.links.length,
    monitors: info.monitors.length,
    traced: p.hook?.trace != null,
  };
}

/** Every live process (at most 5 000, the busiest mailboxes first when there are more). */
export function processRows(node: Node): { rows: ProcessRow[]; total: number } {
  const pids = node.processes();
  const rows: ProcessRow[] = [];
  for (const pid of pids) {
    const r = row(node, pid);
    if (r !== null) rows.push(r);
  }
  if (rows.length > MAX_ROWS) {
    rows.sort((a, b) => b.mailbox - a.mailbox || b.handled - a.handled);
    rows.length = MAX_ROWS;
  }
  return { rows, total: pids.length };
}

export function processDetail(node: Node, pid: Pid): ProcessDetail | null {
  const r = row(node, pid);
  const p = node.lookup(pid);
  const info = node.processInfo(pid);
  if (r === null || p === null || info === undefined) return null;
  const queue = (p.mbox?.toArray() ?? []).slice(0, 20).map((m) => renderValue(m, { total: 300, depth: 3 }));
  return {
    ...r,
    parent: p.parent?.toString() ?? null,
    trapExit: info.trapExit,
    linkList: info.links.slice(0, 200).map(str),
    monitorList: info.monitors.slice(0, 200).map(str),
    monitoredBy: info.monitoredBy.slice(0, 200).map(str),
    state: renderValue(p.state),
    queue,
    restarts: SUPERVISOR_LABELS.has(info.behaviour ?? '') ? sysMonitor(node).restartsOf(pid) : null,
  };
}

/**
 * The supervision trees rooted at this node's supervisors that have no
 * supervisor as parent. Children are asked with `which_children` (bounded
 * by `timeoutMs` each); a supervisor that does not answer is shown without
 * children.
 */
export async function supervisionTrees(node: Node, timeoutMs = 1000): Promise<TreeNode[]> {
  const mon = sysMonitor(node);
  let budget = MAX_TREE_NODES;
  const isSup = (pid: Pid): boolean => SUPERVISOR_LABELS.has(node.processInfo(pid)?.behaviour ?? '');
  const build = async (pid: Pid, id: string | null, type: 'supervisor' | 'worker', depth: number): Promise<TreeNode> => {
    budget--;
    const info = node.processInfo(pid);
    const t: TreeNode = { pid: pid.toString(), id, name: info?.name ?? null, behaviour: info?.behaviour ?? null, type, restarts: 0, restarting: false, children: [] };
    if (type !== 'supervisor' || info === undefined || depth > 20) return t;
    t.restarts = mon.restartsOf(pid);
    const dynamic = info.behaviour === 'dynamic_supervisor';
    let kids: { id: string | undefined; pid: Pid | 'restarting' | undefined; type: 'supervisor' | 'worker' }[];
    try {
      // The call's own timeout bounds it: a supervisor busy restarting leaves no call pending for long.
      kids = await supCall(node, pid, dynamic ? { $dsup: 'which_children' } : { $sup: 'which_children' }, timeoutMs);
    } catch {
      return t;
    }
    for (const k of kids) {
      if (budget <= 0) break;
      if (k.pid instanceof Pid && k.pid.node === node.name) t.children.push(await build(k.pid, k.id ?? null, k.type, depth + 1));
      else {
        budget--;
        t.children.push({ pid: k.pid instanceof Pid ? k.pid.toString() : null, id: k.id ?? null, name: null, behaviour: null, type: k.type, restarts: 0, restarting: k.pid === 'restarting', children: [] });
      }
    }
    return t;
  };
  const roots: TreeNode[] = [];
  for (const pid of node.processes()) {
    if (budget <= 0) break;
    if (!isSup(pid)) continue;
    const parent = node.lookup(pid)?.parent ?? null;
    if (parent !== null && parent.node === node.name && node.isAlive(parent) && isSup(parent)) continue;
    roots.push(await build(pid, null, 'supervisor', 0));
  }
  return roots;
}

import type { Node } from '../node.js';
import type { Pid } from '../pid.js';
import { formatReason, type ExitReason } from '../exit-reason.js';
import type { Behaviour } from '../types.js';

/** One entry of a node's event log. `text` fields are bounded renderings. */
export interface SysEvent {
  seq: number;
  /** ms since the epoch. */
  at: number;
  kind: 'crash' | 'restart' | 'nodeup' | 'nodedown';
  node: string;
  pid?: string;
  behaviour?: string | null;
  supervisor?: string;
  child?: string | null;
  peer?: string;
  reason?: string;
  stack?: string;
}

const LOG_SIZE = 500;
const REASON_CHARS = 500;
const STACK_CHARS = 2000;

function short(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}

function stackOf(reason: ExitReason): string | undefined {
  if (typeof reason === 'object' && reason !== null && 'error' in reason) {
    const st = (reason as { error?: { stack?: unknown } }).error?.stack;
    if (typeof st === 'string') return short(st, STACK_CHARS);
  }
  return undefined;
}

/**
 * A node's counters and recent events for introspection and metrics:
 * crashes, restarts (per supervisor too), nodeup/nodedown. It listens to the
 * node's `crash` and `restart` events (paths that are already slow) and a
 * small process watches nodes; the message path is untouched. The log is a
 * ring of the last 500 events.
 */
export class SysMonitor {
  crashes = 0;
  restarts = 0;
  /** Restarts per supervisor pid key; entries of supervisors that exited are pruned on read. */
  readonly restartsBy = new Map<string, number>();
  private readonly log: SysEvent[] = [];
  private seq = 0;
  private watcher: Pid | null = null;
  private readonly onCrash = (e: { pid: Pid; reason: ExitReason; behaviour: string | null }): void => {
    this.crashes++;
    const stack = stackOf(e.reason);
    this.push({ kind: 'crash', pid: e.pid.toString(), behaviour: e.behaviour, reason: short(formatReason(e.reason), REASON_CHARS), ...(stack === undefined ? {} : { stack }) });
  };
  private readonly onRestart = (e: { supervisor: Pid; child: string | null; pid: Pid; reason: ExitReason }): void => {
    this.restarts++;
    const k = e.supervisor.key;
    this.restartsBy.set(k, (this.restartsBy.get(k) ?? 0) + 1);
    if (this.restartsBy.size > 1000) this.prune(); // supervisors come and go: keep the table to the live ones
    this.push({ kind: 'restart', supervisor: e.supervisor.toString(), child: e.child, pid: e.pid.toString(), reason: short(formatReason(e.reason), REASON_CHARS) });
  };

  constructor(readonly node: Node) {
    node.events.on('crash', this.onCrash);
    node.events.on('restart', this.onRestart);
    const self = this;
    const watch: Behaviour<unknown, undefined> = {
      name: 'sys_monitor',
      init(ctx) {
        node.dist.monitorNodes(ctx.self, true);
        return undefined;
      },
      handle(m) {
        const t = (m as { type?: unknown } | null)?.type;
        if (t === 'nodeup' || t === 'nodedown') {
          const mm = m as { node: string; reason?: string };
          self.push({ kind: t, peer: mm.node, ...(t === 'nodedown' ? { reason: String(mm.reason) } : {}) });
        }
      },
    };
    this.watcher = node.spawn(watch, { label: 'sys_monitor' });
  }

  private push(e: Omit<SysEvent, 'seq' | 'at' | 'node'>): void {
    const ev = { seq: ++this.seq, at: Date.now(), node: this.node.name, ...e } as SysEvent;
    if (this.log.length >= LOG_SIZE) this.log.shift();
    this.log.push(ev);
  }

  /** Events with `seq > sinceSeq`, oldest first. */
  events(sinceSeq = 0): SysEvent[] {
    const i = this.log.findIndex((e) => e.seq > sinceSeq);
    return i < 0 ? [] : this.log.slice(i);
  }

  restartsOf(supervisor: Pid): number {
    return this.restartsBy.get(supervisor.key) ?? 0;
  }

  /** Forgets counters of supervisors that are gone (bounded memory under churn). */
  prune(): void {
    const live = new Set(this.node.processes().map((p) => p.key));
    for (const k of this.restartsBy.keys()) if (!live.has(k)) this.restartsBy.delete(k);
  }

  stop(): void {
    this.node.events.off('crash', this.onCrash);
    this.node.events.off('restart', this.onRestart);
    if (this.watcher !== null && this.node.isAlive(this.watcher)) this.node.exit(this.watcher, 'kill');
    this.watcher = null;
  }
}

const monitors = new WeakMap<Node, SysMonitor>();

/** The node's monitor, started on first use. */
export function sysMonitor(node: Node): SysMonitor {
  let m = monitors.get(node);
  if (m === undefined) monitors.set(node, (m = new SysMonitor(node)));
  return m;
}

import type { Node } from '../node.js';
import { sysMonitor } from './monitor.js';
import { mailboxMax } from './introspect.js';

/** One value of a metric, with its labels. */
export interface MetricSample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

/** A metric in Prometheus terms: one name, one type, its samples. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: MetricSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`,
 * then one line per sample. Throws on an invalid metric or label name (a
 * programming error, never data from a peer).
 */
export function formatPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new TypeError(`metric name ${JSON.stringify(f.name)} is not valid`);
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const entries = Object.entries(s.labels ?? {});
      for (const [k] of entries) if (!LABEL.test(k)) throw new TypeError(`label name ${JSON.stringify(k)} of ${f.name} is not valid`);
      const labels = entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')}}`;
      lines.push(`${f.name}${labels} ${num(s.value)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Content-Type of `formatPrometheus`'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The runtime's own metrics for one node (the list with meanings is in
 * docs/METRICS.md). Starts event-loop lag sampling and the node's sys
 * monitor (crash and restart counters) on first use.
 */
export function nodeMetrics(node: Node): MetricFamily[] {
  node.monitorLag();
  const mon = sysMonitor(node);
  const st = node.stats();
  const mem = process.memoryUsage();
  const g = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'gauge', samples: [{ value }] });
  const c = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'counter', samples: [{ value }] });
  const lag = st.lag;
  return [
    g('troupe_processes', 'Live processes on this node.', st.processes),
    c('troupe_messages_handled_total', 'Messages handled by behaviour-style processes (GenServers included) since the node started.', st.processed),
    c('troupe_crashes_total', 'Processes that exited with an abnormal reason (not normal or shutdown).', mon.crashes),
    c('troupe_restarts_total', 'Child restarts begun by supervisors on this node.', mon.restarts),
    g('troupe_mailbox_max', 'Longest mailbox of any process on this node, in messages.', mailboxMax(node)),
    g('troupe_run_queue', 'Processes waiting to run.', st.runQueue),
    g('troupe_pending_calls', 'Calls made from this node still waiting for a reply.', st.pendingCalls),
    g('troupe_timers', 'Pending timers (sendAfter, startTimer).', st.timers),
    g('troupe_registered_names', 'Local names registered on this node.', node.registered().length),
    {
      name: 'troupe_event_loop_lag_seconds',
      help: 'Event-loop delay since sampling started, by quantile (0.5, 0.99) and its maximum (quantile="1").',
      type: 'gauge',
      samples: lag === undefined ? [] : [
        { labels: { quantile: '0.5' }, value: lag.p50 / 1000 },
        { labels: { quantile: '0.99' }, value: lag.p99 / 1000 },
        { labels: { quantile: '1' }, value: lag.max / 1000 },
      ],
    },
    {
      name: 'troupe_connected_nodes',
      help: 'Nodes this node has a connection to, by kind (visible members, hidden nodes such as an observer).',
      type: 'gauge',
      samples: [
        { labels: { kind: 'visible' }, value: node.dist.nodes('visible').length },
        { labels: { kind: 'hidden' }, value: node.dist.nodes('hidden').length },
      ],
    },
    g('process_resident_memory_bytes', 'Resident memory of the OS process.', mem.rss),
    g('nodejs_heap_used_bytes', 'V8 heap in use.', mem.heapUsed),
    g('nodejs_heap_total_bytes', 'V8 heap reserved.', mem.heapTotal),
  ];
}

/** The `troupe cluster` status table: a pure function of what the nodes reported, so it is testable. */
import type { NodeStatus } from './ipc.js';

/** One node's row in the `troupe cluster` status table. */
export interface StatusRow {
  /** Full node name (known before the node reports). */
  name: string;
  osPid: number | null;
  /** starting | up | draining | unresponsive | exited (code) */
  state: string;
  status: NodeStatus | null;
  /** Messages/s over the last interval, or null before two samples. */
  rate: number | null;
}

function compact(n: number | null): string {
  if (n === null) return '-';
  if (n >= 1e6) return (n / 1e6).toFixed(1) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(0) + 'k';
  return Math.round(n).toString();
}

/** `http://127.0.0.1:4000` → `:4000`, so the table fits 80 columns (the start-up line has the full URLs). */
function shortUrl(url: string | null): string {
  if (url === null) return '-';
  return url.replace(/^https?:\/\/(127\.0\.0\.1|localhost)(?=:)/, '').replace(/^https?:\/\//, '');
}

/** What the STATE column shows: a node that is up but whose seeds fail shows its health instead. */
function shownState(m: StatusRow): string {
  const h = m.status?.health;
  return m.state === 'up' && h !== undefined && h.status !== 'healthy' ? h.status : m.state;
}

/** Lines of the status block: a summary line, then one row per node, then the reasons of nodes not healthy. */
export function renderStatus(members: readonly StatusRow[], at: Date): string[] {
  const up = members.filter((m) => m.state === 'up').length;
  const reported = members.filter((m) => m.status !== null && m.state !== 'unresponsive' && !m.state.startsWith('exited'));
  const registry = reported.length === 0 ? null : Math.max(...reported.map((m) => m.status!.registry));
  const total = reported.reduce((s, m) => s + (m.rate ?? 0), 0);
  const head = `status ${at.toTimeString().slice(0, 8)}  ${up}/${members.length} nodes up  registry ${registry ?? '-'} names  ${compact(total)} msgs/s`;
  const rows = members.map((m) => {
    const s = m.status;
    const peers = s === null ? '-' : `${s.connected.length}/${members.length - 1}`;
    return [m.name, shownState(m), m.osPid === null ? '-' : String(m.osPid), shortUrl(s?.http ?? null), s === null ? '-' : String(s.processes), compact(m.rate), s === null ? '-' : String(s.agents), s === null ? '-' : String(s.registry), peers];
  });
  const header = ['NODE', 'STATE', 'OS PID', 'HTTP', 'PROCS', 'MSGS/S', 'AGENTS', 'NAMES', 'PEERS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set([2, 4, 5, 6, 7, 8]);
  const line = (cells: string[]): string => '  ' + cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const reasons = members.flatMap((m) => (shownState(m) === m.state ? [] : (m.status?.health.reasons ?? []).map((r) => `  ${m.name}: ${r}`)));
  return [head, line(header), ...rows.map(line), ...reasons];
}

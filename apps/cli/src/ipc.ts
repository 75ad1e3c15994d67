/**
 * What `troupe cluster` and the `troupe node` processes it forks say to each
 * other over the IPC channel. IPC rather than HTTP so the status works with
 * or without the gateway, and so a node notices its parent going away.
 */

export interface NodeStatus {
  name: string;
  osPid: number;
  /** `up` serving; `draining` between the signal and exit. */
  state: 'up' | 'draining';
  /** Gateway URL, or null without a gateway. */
  http: string | null;
  /** Mesh URL (what `--join` takes). */
  mesh: string;
  processes: number;
  /** Messages handled by behaviour-style processes since start (a counter; the cluster derives msgs/s). */
  processed: number;
  /** Names in the cluster registry as this node sees them. */
  registry: number;
  /** Agents hosted on this node. */
  agents: number;
  /** Visible nodes connected to this one. */
  connected: string[];
  /** The transport's health: `degraded` / `unreachable` with reasons when seeds fail (e.g. refuse the cookie). */
  health: { status: 'healthy' | 'degraded' | 'unreachable'; reasons: string[] };
  uptimeMs: number;
}

/** `stop` with `drain: false`: the whole cluster is stopping, there is nobody to hand agents to. */
export type ToNode = { t: 'status'; id: number } | { t: 'stop'; drain: boolean };

export type FromNode =
  | { t: 'ready'; status: NodeStatus }
  | { t: 'status'; id: number; status: NodeStatus };

export function isFromNode(m: unknown): m is FromNode {
  const t = (m as { t?: unknown } | null)?.t;
  return t === 'ready' || t === 'status';
}

export function isToNode(m: unknown): m is ToNode {
  const t = (m as { t?: unknown } | null)?.t;
  return t === 'status' || t === 'stop';
}

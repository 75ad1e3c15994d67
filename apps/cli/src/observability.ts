/**
 * What a `troupe node` offers an observer: its introspection functions over
 * the mesh (`exposeIntrospection`, plus the cluster services and mesh links
 * as this node sees them) and the text of its `/metrics`.
 */
import { exposeIntrospection, formatPrometheus, nodeMetrics, type MetricFamily, type Node } from '@troupe/actor-core';
import { meshView, transportMetrics, type WsTransport } from '@troupe/transport-ws';
import type { AgentServices } from '@troupe/gateway';

/** Entries of each list at most: the observer shows services, it does not page through them. */
const MAX_ENTRIES = 1000;

export interface ServicesSnapshot {
  /** `conflicts`: name conflicts this node's replica resolved (two holders of one name after a partition). */
  registry: { total: number; conflicts: number; names: { name: string; pid: string; node: string }[] };
  supervisor: { total: number; children: { id: string; pid: string; node: string; behaviour: string; generation: number }[] };
  groups: { group: string; members: number }[];
  topics: { topic: string; subscribers: number }[];
}

export function servicesSnapshot(s: AgentServices): ServicesSnapshot {
  if (!s.running) return { registry: { total: 0, conflicts: 0, names: [] }, supervisor: { total: 0, children: [] }, groups: [], topics: [] };
  const names = s.registry.select();
  const children = s.supervisor.whichChildren();
  return {
    registry: { total: names.length, conflicts: s.registry.stats().conflictsResolved, names: names.slice(0, MAX_ENTRIES).map((e) => ({ name: e.name, pid: e.pid.toString(), node: e.pid.node })) },
    supervisor: {
      total: children.length,
      children: children.slice(0, MAX_ENTRIES).map((c) => ({ id: c.id, pid: c.pid.toString(), node: c.node, behaviour: c.behaviour, generation: c.generation })),
    },
    groups: s.events.groupSizes(),
    topics: s.pubsub.localTopics().slice(0, MAX_ENTRIES),
  };
}

export interface NodeObservability {
  metrics(): string;
}

/**
 * Exposes this node's introspection and returns its metrics; `services` is read lazily (it starts
 * after the transport). `store`: the durable agents' store's write counts (`--store`), if any.
 */
export function observeNode(
  node: Node,
  transport: WsTransport,
  services: () => { introspect(): unknown; registrySize(): number } | undefined,
  store?: { metrics(): MetricFamily[] },
): NodeObservability {
  exposeIntrospection(node, {
    services: () => services()?.introspect() ?? null,
    mesh: () => meshView(transport),
  });
  return {
    metrics: () =>
      formatPrometheus([
        ...nodeMetrics(node),
        ...transportMetrics(transport),
        { name: 'troupe_registry_names', help: 'Names in the cluster Registry as this node sees them.', type: 'gauge', samples: [{ value: services()?.registrySize() ?? 0 }] },
        ...(store?.metrics() ?? []),
      ]),
  };
}

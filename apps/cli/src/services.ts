/**
 * What a `troupe node` runs on top of its Node and transport: the agent
 * services (Registry, DistributedSupervisor, PubSub) and the HTTP gateway.
 * The one place `@troupe/gateway` plugs in; `troupe node` and `troupe
 * cluster` only see `NodeServices`.
 */
import type { Node } from '@troupe/actor-core';
import type { PersistenceStore } from '@troupe/persistence';
import { startAgentServices, startGateway, type GatewayHealth } from '@troupe/gateway';
import { servicesSnapshot, type ServicesSnapshot } from './observability.js';

export interface ServicesOptions {
  node: Node;
  /** Interface and port of the HTTP gateway (0: any free port). */
  host: string;
  port: number;
  partition: string | null;
  /** The gateway's bearer-token file (else its defaults: TROUPE_GATEWAY_TOKEN, TROUPE_GATEWAY_TOKEN_FILE, ~/.troupe.gateway-token beyond loopback). */
  tokenFile?: string | undefined;
  /** The cluster health `GET /health` reports (the transport's). */
  health?: () => GatewayHealth;
  /** Serves `GET /metrics` on the gateway with this (Prometheus text). */
  metrics?: () => string;
  /** Durable agents' store (`--store`); the caller closes it after `leave`. */
  store?: PersistenceStore | undefined;
}

export interface NodeServices {
  /** The gateway's base URL, or null when this node serves no HTTP. */
  http: string | null;
  /** Names in the cluster registry as this node sees them. */
  registrySize(): number;
  /** Agents hosted here. */
  localAgents(): number;
  /** Registry names, DistributedSupervisor children and PubSub topics, for the observer (bounded). */
  introspect(): ServicesSnapshot;
  /**
   * Leave: with `drain`, hand this node's agents over to other members first
   * (a graceful leave); without, stop them here (survivors restart them, as
   * after a crash). Then leave the services and stop serving HTTP. Returns a summary.
   */
  leave(opts: { drain: boolean }): Promise<string>;
}

export async function startServices(o: ServicesOptions): Promise<NodeServices> {
  const services = await startAgentServices(o.node, { ...(o.partition === null ? {} : { partition: o.partition }), ...(o.store === undefined ? {} : { store: o.store.states }) });
  let gateway;
  try {
    gateway = await startGateway({
      node: o.node,
      services,
      host: o.host,
      port: o.port,
      ...(o.tokenFile === undefined ? {} : { tokenFile: o.tokenFile }),
      ...(o.health === undefined ? {} : { health: o.health }),
      ...(o.metrics === undefined ? {} : { metrics: o.metrics }),
    });
  } catch (e) {
    // E.g. the port is taken: leave the services so peers do not place agents on a node that will exit.
    await services.stop({ drain: false }).catch(() => {});
    throw e;
  }
  const local = (): number => (services.running ? services.supervisor.countChildren().local : 0);
  return {
    http: gateway.url,
    registrySize: () => (services.running ? services.registry.count() : 0),
    localAgents: local,
    introspect: () => servicesSnapshot(services),
    leave: async (opts) => {
      const n = local();
      // Hand over only if another member could adopt; alone, the agents are simply stopped.
      const drain = opts.drain && services.running && services.supervisor.targets().some((t) => t !== o.node.name);
      // Agents first, while HTTP still answers (requests reach the agents on their new homes), then HTTP.
      await services.stop({ drain });
      await gateway.close();
      return `${n} agent(s) ${drain ? 'handed over' : 'stopped'}, left the registry`;
    },
  };
}

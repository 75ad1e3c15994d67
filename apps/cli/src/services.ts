/**
 * What a `troupe node` runs on top of its Node and transport: the cluster
 * services and the HTTP gateway. This is the one place `@troupe/gateway`
 * plugs in; `troupe node` and `troupe cluster` only see `NodeServices`.
 */
import type { Node } from '@troupe/actor-core';
import { Registry } from '@troupe/registry-crdt';

export interface ServicesOptions {
  node: Node;
  /** Interface and port of the HTTP gateway. */
  host: string;
  port: number;
  partition: string | null;
  log: (line: string) => void;
}

export interface NodeServices {
  /** The gateway's base URL, or null when this build has no gateway. */
  http: string | null;
  /** Why there is no gateway (shown once at start), or null. */
  note: string | null;
  /** Names in the cluster registry as this node sees them. */
  registrySize(): number;
  /** Graceful leave: hand children over to other members and leave the services. Returns a summary. */
  drain(): Promise<string>;
  /** Stop serving HTTP and stop the services (after `drain`, or instead of it). */
  close(): Promise<void>;
}

/** The part of `@troupe/gateway` this module uses (checked structurally until the package lands). */
interface GatewayModule {
  startAgentServices(node: Node, opts: { partition?: string }): Promise<unknown>;
  startGateway(opts: { node: Node; services: unknown; host: string; port: number }): Promise<{ url: string; close(): Promise<void> }>;
}

function isGatewayModule(m: unknown): m is GatewayModule {
  const g = m as Partial<GatewayModule> | null;
  return typeof g?.startAgentServices === 'function' && typeof g.startGateway === 'function';
}

async function loadGateway(): Promise<GatewayModule | string> {
  // A variable specifier: the gateway is optional at build time (it lands separately).
  const spec = '@troupe/gateway';
  try {
    const m: unknown = await import(spec);
    return isGatewayModule(m) ? m : `${spec} does not export startAgentServices/startGateway`;
  } catch (e) {
    return `${spec} is not available (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}

/** Starts the services; falls back to the bare cluster Registry when the gateway is missing. */
export async function startServices(o: ServicesOptions): Promise<NodeServices> {
  const gw = await loadGateway();
  if (typeof gw !== 'string') {
    const services = await gw.startAgentServices(o.node, o.partition === null ? {} : { partition: o.partition });
    const server = await gw.startGateway({ node: o.node, services, host: o.host, port: o.port });
    const registry = findRegistry(services);
    return {
      http: server.url,
      note: null,
      registrySize: () => registry?.count() ?? 0,
      drain: async () => drainOf(services),
      close: async () => {
        await server.close();
        await stopOf(services);
      },
    };
  }
  const registry = await Registry.start(o.node, { name: 'agents', ...(o.partition === null ? {} : { partition: o.partition }) });
  return {
    http: null,
    note: `no HTTP gateway: ${gw}; running the node with the cluster registry only`,
    registrySize: () => registry.count(),
    drain: async () => {
      await registry.stop();
      return 'left the registry';
    },
    close: () => registry.stop(),
  };
}

interface Counting {
  count(): number;
}

function findRegistry(services: unknown): Counting | null {
  const r = (services as { registry?: Partial<Counting> } | null)?.registry;
  return r !== undefined && typeof r.count === 'function' ? (r as Counting) : null;
}

async function drainOf(services: unknown): Promise<string> {
  const s = services as { drain?: () => Promise<unknown> } | null;
  if (typeof s?.drain !== 'function') return 'no drain support';
  const r = await s.drain();
  return typeof r === 'object' && r !== null ? JSON.stringify(r) : String(r);
}

async function stopOf(services: unknown): Promise<void> {
  const s = services as { stop?: () => Promise<void> } | null;
  if (typeof s?.stop === 'function') await s.stop();
}

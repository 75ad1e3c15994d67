/**
 * Scenarios run inside harness node processes (apps/harness): start the
 * agent services and the gateway on the child's node, as `troupe node` does.
 */
import type { Scenarios } from '@troupe/harness';
import { startAgentServices, startGateway, type AgentServices, type Gateway } from '../src/index.js';

export const scenarios: Scenarios = {
  /** Starts services + gateway on 127.0.0.1 (ephemeral port); resolves to the gateway URL. */
  async gatewayStart(env): Promise<string> {
    const services = await startAgentServices(env.node, { orphanGraceMs: 500 });
    const gw = await startGateway({ node: env.node, services });
    env.store.set('services', services);
    env.store.set('gateway', gw);
    return gw.url;
  },

  /** Graceful leave: agents handed over with their queues, then the gateway closes. */
  async gatewayStop(env): Promise<boolean> {
    await (env.store.get('services') as AgentServices | undefined)?.stop();
    await (env.store.get('gateway') as Gateway | undefined)?.close();
    return true;
  },
};

/**
 * Two nodes in this process joined by the real mesh (WsTransport on
 * 127.0.0.1, ephemeral ports), each running the agent services: so an agent
 * on `b` is remote to a gateway on `a`, its calls crossing a socket.
 */
import { randomBytes } from 'node:crypto';
import { Node, silentLogger, type Logger } from '@troupe/actor-core';
import { homeOf } from '@troupe/registry-crdt';
import { WsTransport } from '@troupe/transport-ws';
import { startAgentServices, type AgentServices, type AgentServicesOptions } from '../src/index.js';
import { until } from './helpers.js';

export interface WsPair {
  a: Node;
  b: Node;
  sa: AgentServices;
  sb: AgentServices;
  /** The first `${prefix}-<i>` that placement puts on `node`. */
  nameOn(node: Node, prefix: string): string;
  close(): Promise<void>;
}

let pairs = 0;

export async function startWsPair(opts: AgentServicesOptions = {}, logger: Logger = silentLogger): Promise<WsPair> {
  const id = `${process.pid}x${pairs++}`;
  const cookie = randomBytes(32).toString('base64url');
  const a = new Node({ name: `a${id}@127.0.0.1`, logger });
  const b = new Node({ name: `b${id}@127.0.0.1`, logger });
  const ta = await WsTransport.start(a, { cookie });
  const tb = await WsTransport.start(b, { cookie });
  await ta.connect(tb.url);
  const [sa, sb] = await Promise.all([startAgentServices(a, { logEvents: 'silent', ...opts }), startAgentServices(b, { logEvents: 'silent', ...opts })]);
  await until('both nodes are placement targets', () => sa.supervisor.targets().length === 2 && sb.supervisor.targets().length === 2);
  return {
    a,
    b,
    sa,
    sb,
    nameOn(node, prefix) {
      for (let i = 0; ; i++) if (homeOf(`${prefix}-${i}`, [a.name, b.name]) === node.name) return `${prefix}-${i}`;
    },
    async close() {
      await Promise.all([sa.stop({ drain: false }), sb.stop({ drain: false })]);
      await Promise.all([ta.close(), tb.close()]);
      a.shutdown();
      b.shutdown();
    },
  };
}

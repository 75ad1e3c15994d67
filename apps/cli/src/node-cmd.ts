/**
 * `troupe node`: one Node + WsTransport + the cluster services and gateway,
 * joined to the cluster through `--join` seeds (dialled again until reached,
 * and again if a seed restarts). SIGTERM/SIGINT drain it and exit 0.
 *
 * Prints `ready <name> mesh=<url> http=<url|->` once serving; forked by
 * `troupe cluster` it also answers status requests over IPC and drains when
 * that parent goes away, so no node outlives its cluster command.
 */
import { Node } from '@troupe/actor-core';
import { DnsPoll, ListenError, LocalNodes, StaticSeeds, UdpGossip, WsTransport, type DiscoveryStrategy } from '@troupe/transport-ws';
import type { NodeCliOptions } from './args.js';
import { isToNode, type FromNode, type NodeStatus } from './ipc.js';
import { createPino, logFormat, nodeLogger } from './log.js';
import { startServices } from './services.js';
import { observeNode } from './observability.js'; // observer: introspection + /metrics
import { describeStore, openStore } from './store.js';
import { meteredStore, type MeteredStore } from '@troupe/persistence';

/** Upper bound on a graceful stop; past it the node exits 1 (drain incomplete). */
export const DRAIN_LIMIT_MS = 10_000;

/** Ports tried above a default port that is taken (`troupe node` twice on one host takes 4000/5000, then 4001/5001). */
export const PORT_SEARCH = 100;

/**
 * `start(port)` on `first`; when `search` and the port is in use, on the
 * next ones. Binding is the test: no port is probed and released first, so
 * no other process can take it in between.
 */
async function onFreePort<T>(first: number, search: boolean, start: (port: number) => Promise<T>): Promise<T> {
  const last = Math.min(65535, first + PORT_SEARCH - 1);
  for (let port = first; ; port++) {
    try {
      return await start(port);
    } catch (e) {
      if (!search || port >= last || !inUse(e)) throw e;
    }
  }
}

function inUse(e: unknown): boolean {
  if (e instanceof ListenError) return e.inUse;
  return e instanceof Error && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

export async function runNode(o: NodeCliOptions): Promise<number> {
  const started = Date.now();
  const tty = process.stdout.isTTY === true;
  const log = createPino({ level: o.logLevel, format: logFormat(process.env, tty), colorize: tty });
  // The node's own events (nodeup, draining, stopped, ...), one line each at info.
  const say = (line: string): void => log.info(line);
  const node = new Node({ name: o.name, logger: nodeLogger(log) });
  // Seeds rather than one connect(): a seed that is not up yet (or restarts) is dialled again.
  // A hidden node connects only where asked: no local or LAN discovery.
  const discovery = (): DiscoveryStrategy[] => [
    ...(o.join.length === 0 ? [] : [new StaticSeeds(o.join, { intervalMs: 2000 })]),
    ...o.joinDns.map((d) => new DnsPoll({ name: d.name, port: d.port, intervalMs: 5000 })),
    ...(o.localDiscovery && !o.hidden ? [new LocalNodes()] : []),
    ...(o.gossip !== null && !o.hidden ? [new UdpGossip(o.gossip)] : []),
  ];
  const transport = await onFreePort(o.distPort, o.defaultPorts.dist, (port) => {
    const strategies = discovery();
    return WsTransport.start(node, {
      host: o.host,
      port,
      hidden: o.hidden,
      ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
      ...(o.cookieFile === null ? {} : { cookieFile: o.cookieFile }),
      ...(strategies.length === 0 ? {} : { discovery: strategies, discoveryOptions: { maxMs: 5000 } }),
    });
  });
  // The store before the services: a node that cannot reach it exits before peers place agents on it.
  // Metered: its write rate and latency are on /metrics (docs/METRICS.md).
  let store: MeteredStore | undefined;
  try {
    store = o.store === null ? undefined : meteredStore(await openStore(o.store));
  } catch (e) {
    await transport.close().catch(() => {});
    node.shutdown();
    throw e;
  }
  if (o.store !== null) say(`store ${describeStore(o.store)}: agents are durable`);
  transport.on('nodeup', (e) => say(`nodeup ${e.node}${e.hidden ? ' (hidden)' : ''}`));
  transport.on('nodedown', (e) => say(`nodedown ${e.node} (${e.reason})`));

  let services: Awaited<ReturnType<typeof startServices>> | undefined;
  const observed = observeNode(node, transport, () => services, store); // observer: introspection + /metrics
  try {
    // HTTP stays on loopback unless --http-host says otherwise: --host opens the mesh, not StartAgent/StopAgent.
    const httpHost = o.httpHost ?? '127.0.0.1';
    services = await onFreePort(o.port, o.defaultPorts.http, (port) =>
      startServices({ node, host: httpHost, port, partition: o.partition, tokenFile: o.httpTokenFile, health: () => transport.health(), metrics: observed.metrics, store }),
    );
  } catch (e) {
    await store?.close().catch(() => {});
    await transport.close().catch(() => {});
    node.shutdown();
    throw e;
  }
  let state: NodeStatus['state'] = 'up';
  const status = (): NodeStatus => {
    const s = node.stats();
    return {
      name: node.name,
      osPid: process.pid,
      state,
      http: services.http,
      mesh: transport.url,
      processes: s.processes,
      processed: s.processed,
      registry: services.registrySize(),
      agents: services.localAgents(),
      connected: transport.nodes('visible'),
      health: transport.health(),
      uptimeMs: Date.now() - started,
    };
  };

  const post = (m: FromNode): void => {
    // Once the parent is gone there is nobody to tell (the 'disconnect' handler drains).
    if (process.send !== undefined && process.connected) process.send(m);
  };

  let stopping: Promise<number> | null = null;
  const stop = (why: string, drain = true): Promise<number> => {
    if (stopping !== null) return stopping;
    state = 'draining';
    say(`${why}: ${drain ? 'draining' : 'stopping'}`);
    stopping = (async () => {
      const hard = setTimeout(() => {
        log.error(`drain did not finish in ${DRAIN_LIMIT_MS / 1000} s; exiting`);
        process.exit(1);
      }, DRAIN_LIMIT_MS);
      hard.unref();
      let summary: string;
      try {
        summary = await services.leave({ drain });
      } catch (e) {
        summary = `leaving failed: ${e instanceof Error ? e.message : String(e)}`;
      }
      // After the agents stopped (their last writes are in): then the store can go.
      await store?.close().catch((e: unknown) => log.warn(`closing the store failed: ${e instanceof Error ? e.message : String(e)}`));
      await transport.close().catch(() => {});
      node.shutdown();
      say(`stopped (${summary})`);
      return 0;
    })();
    return stopping;
  };

  const done = new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      void stop(sig).then(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (process.send !== undefined) {
      // The cluster command died: its other nodes are going too, so nobody would adopt handed-over agents.
      process.on('disconnect', () => void stop('parent gone', false).then(resolve));
      process.on('message', (m: unknown) => {
        if (!isToNode(m)) return;
        if (m.t === 'status') post({ t: 'status', id: m.id, status: status() });
        else void stop('stop requested', m.drain !== false).then(resolve);
      });
    }
  });

  log.info({ node: node.name, mesh: transport.url, http: services.http }, `ready ${node.name} mesh=${transport.url} http=${services.http ?? '-'}${o.join.length > 0 ? ` joining ${o.join.join(' ')}` : ''}`);
  post({ t: 'ready', status: status() });
  return done;
}

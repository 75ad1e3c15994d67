import { Node, silentLogger, type Logger } from '@troupe/actor-core';
import { WsTransport } from '@troupe/transport-ws';
import { ClusterView, type ClusterViewOptions } from './cluster-view.js';
import { newToken } from './http-guard.js';
import { startHttp } from './http-server.js';

export interface ObserverOptions {
  /** Mesh URLs of members to join (one is enough: the others are found through its links). */
  join: string[];
  /** The observer's node name. Default `observer-<random>@127.0.0.1`. */
  name?: string;
  /** The cluster's cookie; else `TROUPE_COOKIE`, else the cookie file (as any node). */
  cookie?: string;
  cookieFile?: string;
  /** Interface of the web page. Default 127.0.0.1 (only this machine). */
  host?: string;
  /** Port of the web page. Default 0 (any free port). */
  port?: number;
  /** Interface of the observer's own (hidden) mesh listener. Default 127.0.0.1. */
  meshHost?: string;
  /** The page's token; default: 256 random bits. */
  token?: string;
  logger?: Logger;
  view?: ClusterViewOptions;
}

export interface Observer {
  /** The URL to open, token included. */
  readonly url: string;
  readonly token: string;
  readonly node: Node;
  readonly view: ClusterView;
  close(): Promise<void>;
}

/**
 * Starts an observer: a hidden node (it holds the cookie but is not listed
 * as a member and never joins the mesh) that reads every member through
 * its introspection functions, and a web page showing them live.
 */
export async function startObserver(o: ObserverOptions): Promise<Observer> {
  if (!Array.isArray(o.join) || o.join.length === 0) throw new TypeError('startObserver: join needs at least one mesh URL (ws://host:port)');
  const host = o.host ?? '127.0.0.1';
  const token = o.token ?? newToken();
  const node = new Node({ name: o.name ?? `observer-${newToken().slice(0, 6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}@127.0.0.1`, logger: o.logger ?? silentLogger });
  const transport = await WsTransport.start(node, {
    hidden: true,
    host: o.meshHost ?? '127.0.0.1',
    port: 0,
    ...(o.cookie === undefined ? {} : { cookie: o.cookie }),
    ...(o.cookieFile === undefined ? {} : { cookieFile: o.cookieFile }),
  });
  const view = new ClusterView(node, transport, o.view);
  let http;
  try {
    const joined = await Promise.allSettled(o.join.map((u) => view.join(u)));
    if (!joined.some((r) => r.status === 'fulfilled')) {
      const first = joined.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      throw new Error(`observer: could not join ${o.join.join(', ')}: ${first?.reason instanceof Error ? first.reason.message : String(first?.reason)}`);
    }
    http = await startHttp(node, view, token, host, o.port ?? 0);
  } catch (e) {
    await transport.close().catch(() => {});
    node.shutdown();
    throw e;
  }
  view.start();
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const h = http;
  return {
    url: `http://${shownHost}:${h.port}/?token=${encodeURIComponent(token)}`,
    token,
    node,
    view,
    close: async () => {
      view.stop();
      await h.close();
      await transport.close().catch(() => {});
      node.shutdown();
    },
  };
}
